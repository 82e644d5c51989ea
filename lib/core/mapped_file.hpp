// A whole file as read-only bytes: memory-mapped (weights are used in place, never copied), or read
// into memory the object owns.
//
// A mapping reads the file's pages as they are touched, for as long as the object lives. If the file is
// truncated meanwhile, touching a page past its new end raises SIGBUS and the process dies (as with
// llama.cpp); if it is rewritten in place, the new bytes are what is read. Nothing in a mapping can
// prevent or detect that. Replacing the file by a rename (how downloads and copies usually finish) is
// safe: the mapping keeps the old file. file_access::read costs the file's size in memory and the time
// to read it, and afterwards depends on the file no more.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dianoia::detail {

enum class file_access : uint8_t {
  map,   // mmap, pages read on demand (default)
  read,  // read into an owned, page-aligned buffer
};

class mapped_file {
 public:
  // Throws error(io) if the file cannot be opened, mapped or read; error(out_of_memory) if the buffer
  // of file_access::read cannot be allocated. An empty file maps to size 0.
  explicit mapped_file(const std::string& path, file_access access = file_access::map);
  ~mapped_file();
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  file_access access() const { return access_; }

 private:
  std::string path_;
  file_access access_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace dianoia::detail
