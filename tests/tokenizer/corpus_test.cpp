// Parity with Hugging Face tokenizers on the ~2.3 MB corpus of tests/fixtures/tokenizer_corpus (prose in
// many scripts, code, LaTeX, emoji, combining marks, RTL, whitespace and digit runs, replaced invalid
// bytes): every document's ids must equal HF's (count + FNV-1a hash; full ids for the first documents,
// so that a mismatch names its first differing position) and decode back to the document.
// References: tools/make_tokenizer_corpus_refs.py.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "json.hpp"
#include "tok_test_util.hpp"

using namespace dianoia;
using namespace dianoia::test;

namespace {

struct corpus_doc {
  std::string category;
  std::string text;
};

// "@@doc <index> <category> <bytes>\n" + bytes + "\n", repeated.
std::vector<corpus_doc> read_corpus(const std::string& path) {
  const std::string data = read_file(path);
  std::vector<corpus_doc> docs;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    REQUIRE(nl != std::string::npos);
    std::istringstream header(data.substr(pos, nl - pos));
    std::string tag, category;
    size_t index = 0, bytes = 0;
    header >> tag >> index >> category >> bytes;
    REQUIRE(tag == "@@doc");
    REQUIRE(index == docs.size());
    REQUIRE(nl + 1 + bytes < data.size());
    docs.push_back({category, data.substr(nl + 1, bytes)});
    pos = nl + 1 + bytes + 1;
  }
  return docs;
}

// FNV-1a 64 over the ids as little-endian uint32 (the definition in the fixture script).
uint64_t ids_hash(const std::vector<int32_t>& ids) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int32_t id : ids) {
    const auto u = static_cast<uint32_t>(id);
    for (int b = 0; b < 4; ++b) {
      h ^= (u >> (8 * b)) & 0xFF;
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

std::string hex16(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string slice(const std::vector<int32_t>& ids, size_t at) {
  const size_t from = at > 3 ? at - 3 : 0, to = std::min(ids.size(), at + 4);
  return format_ids(std::vector<int32_t>(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                         ids.begin() + static_cast<std::ptrdiff_t>(to)));
}

void check_corpus(const detail::tokenizer& tok, const std::string& name) {
  const std::string dir = fixtures_dir() + "/tokenizer_corpus";
  const auto docs = read_corpus(dir + "/corpus.txt");
  REQUIRE(docs.size() > 100);
  const auto ref = json::parse(read_file(dir + "/" + name + ".json"));
  REQUIRE(ref["hash"].str == "fnv1a64-u32le");
  const auto& want = ref["docs"].arr;
  REQUIRE(want.size() == docs.size());
  const json& full = ref["full_ids"];
  // Documents whose reference ids do not decode back to the text either (bytes the vocabulary lacks).
  std::vector<bool> lossy(docs.size(), false);
  for (const json& i : ref["round_trip_lossy"].arr) lossy.at(static_cast<size_t>(i.as_int())) = true;

  size_t ok = 0, round_trip = 0, tokens = 0, bytes = 0;
  std::vector<std::string> failures;
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto got = tok.encode(docs[i].text, false, false);
    tokens += got.size();
    bytes += docs[i].text.size();
    const auto want_n = static_cast<size_t>(want[i][0].as_int());
    const std::string& want_h = want[i][1].str;
    if (got.size() == want_n && hex16(ids_hash(got)) == want_h) {
      ++ok;
    } else {
      std::ostringstream m;
      m << name << ": document " << i << " (" << docs[i].category << "): " << got.size() << " ids, want " << want_n;
      if (const json* ids = full.find(std::to_string(i))) {
        std::vector<int32_t> w;
        std::istringstream in(ids->str);
        for (int64_t id; in >> id;) w.push_back(static_cast<int32_t>(id));
        size_t at = 0;
        while (at < w.size() && at < got.size() && w[at] == got[at]) ++at;
        m << "; first difference at id " << at << ": want ..." << slice(w, at) << " got ..." << slice(got, at);
      } else {
        m << " (hash " << hex16(ids_hash(got)) << ", want " << want_h << "; no full ids stored for it)";
      }
      failures.push_back(m.str());
    }
    // HF's decode gives the normalized text (NFC for Qwen3), which is what the ids spell.
    if ((tok.decode(got, false) == tok.normalize(docs[i].text)) != lossy[i])
      ++round_trip;
    else
      failures.push_back(name + ": document " + std::to_string(i) +
                         (lossy[i] ? " decodes back to its text, unlike HF's ids" : " does not decode back to its text"));
  }
  for (size_t k = 0; k < failures.size() && k < 20; ++k) MESSAGE(failures[k]);
  MESSAGE(name << ": " << ok << "/" << docs.size() << " documents identical to HF tokenizers, " << round_trip
               << " round-trip as HF's ("
               << std::count(lossy.begin(), lossy.end(), true) << " lossy); " << tokens << " tokens, " << bytes << " bytes");
  CHECK(ok == docs.size());
  CHECK(round_trip == docs.size());
}

std::unique_ptr<detail::tokenizer> from_tokenizer_json(const std::string& name) {
  const std::string dir = data_dir() + "/tokenizers/" + name;
  return detail::tokenizer::from_vocab(
      detail::load_vocab_hf(read_file(dir + "/tokenizer.json"), read_file(dir + "/tokenizer_config.json")));
}

}  // namespace

TEST_CASE("corpus parity: DeepSeek-V3 tokenizer.json") { check_corpus(*from_tokenizer_json("deepseek-v3"), "deepseek-v3"); }

TEST_CASE("corpus parity: Qwen3 tokenizer.json") { check_corpus(*from_tokenizer_json("qwen3"), "qwen3"); }

TEST_CASE("corpus parity: SmolLM2 GGUF") {
  const std::string model = default_model_path();
  if (!file_exists(model)) {
    MESSAGE("SmolLM2 model missing at " << model << ": corpus parity not checked for it");
    return;
  }
  auto t = load_tokenizer(model);
  check_corpus(*t.tok, "smollm2");
}

TEST_CASE("word cache: alternating tokenizers on one thread, and the cache switched off") {
  const std::string dir = fixtures_dir() + "/tokenizer_corpus";
  const auto docs = read_corpus(dir + "/corpus.txt");
  auto ds = from_tokenizer_json("deepseek-v3");
  auto qw = from_tokenizer_json("qwen3");
  auto qw_nocache = from_tokenizer_json("qwen3");
  qw_nocache->set_cache_enabled(false);
  const auto ref_ds = json::parse(read_file(dir + "/deepseek-v3.json"));
  const auto ref_qw = json::parse(read_file(dir + "/qwen3.json"));
  size_t ok = 0;
  const size_t n = std::min<size_t>(docs.size(), 200);
  for (size_t i = 0; i < n; ++i) {
    // Each call switches this thread's cache to another vocabulary: stale ids must never leak across.
    const auto a = ds->encode(docs[i].text, false, false);
    const auto b = qw->encode(docs[i].text, false, false);
    const auto c = qw_nocache->encode(docs[i].text, false, false);
    const bool good = hex16(ids_hash(a)) == ref_ds["docs"][i][1].str && hex16(ids_hash(b)) == ref_qw["docs"][i][1].str && b == c;
    ok += good;
    CHECK_MESSAGE(good, "document " << i);
  }
  CHECK(ok == n);
}
