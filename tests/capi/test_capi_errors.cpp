// Every bad input through the C ABI returns a status and a message: nothing crashes or aborts.
#include <doctest/doctest.h>

#include <dianoia.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

std::string stories_path() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }

// Writes `bytes` to a temporary file and returns its path.
std::string temp_file(const std::string& name, const std::string& bytes) {
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/dianoia-test-" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  return path;
}

dianoia_status load(const std::string& path, dianoia_model** m) { return dianoia_model_load(path.c_str(), nullptr, m); }

bool no_op(const dianoia_event*, void*) { return true; }

}  // namespace

TEST_CASE("capi errors: model files") {
  dianoia_model* m = reinterpret_cast<dianoia_model*>(0x1);
  SUBCASE("nonexistent path") {
    CHECK(load("/nonexistent/dir/model.gguf", &m) == DIANOIA_ERR_IO);
    CHECK(m == nullptr);
    CHECK(std::string(dianoia_last_error()).find("cannot open") != std::string::npos);
  }
  SUBCASE("a directory") { CHECK(load("/tmp", &m) == DIANOIA_ERR_IO); }
  SUBCASE("truncated GGUF") {
    auto bytes = dianoia::test::read_file(stories_path());
    for (size_t n : {size_t{0}, size_t{10}, size_t{4096}, bytes.size() / 2, bytes.size() - 1}) {
      CAPTURE(n);
      auto p = temp_file("trunc.gguf", bytes.substr(0, n));
      CHECK(load(p, &m) == DIANOIA_ERR_FORMAT);
      CHECK(m == nullptr);
      CHECK(std::strlen(dianoia_last_error()) > 0);
    }
  }
  SUBCASE("tensor offset past the end") {
    // Cut the data section while keeping the full header: the last tensors now point past EOF.
    auto bytes = dianoia::test::read_file(stories_path());
    auto p = temp_file("short.gguf", bytes.substr(0, bytes.size() - 100000));
    CHECK(load(p, &m) == DIANOIA_ERR_FORMAT);
    CHECK(std::string(dianoia_last_error()).find("past the end") != std::string::npos);
  }
  SUBCASE("unknown architecture") {
    auto bytes = dianoia::test::read_file(stories_path());
    // "general.architecture" is followed by its value "llama"; same length keeps the file valid.
    auto key = bytes.find("general.architecture");
    REQUIRE(key != std::string::npos);
    auto val = bytes.find("llama", key);
    bytes.replace(val, 5, "xyzzy");
    auto p = temp_file("arch.gguf", bytes);
    CHECK(load(p, &m) == DIANOIA_ERR_UNSUPPORTED);
    CHECK(std::string(dianoia_last_error()).find("xyzzy") != std::string::npos);
  }
  SUBCASE("not a GGUF at all") {
    auto p = temp_file("junk.gguf", std::string(1000, 'x'));
    CHECK(load(p, &m) == DIANOIA_ERR_FORMAT);
  }
  SUBCASE("null arguments") {
    CHECK(dianoia_model_load(nullptr, nullptr, &m) == DIANOIA_ERR_INVALID_ARGUMENT);
    CHECK(dianoia_model_load(stories_path().c_str(), nullptr, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
    dianoia_model_params bad = dianoia_model_default_params();
    bad.struct_size = 0;
    CHECK(dianoia_model_load(stories_path().c_str(), &bad, &m) == DIANOIA_ERR_INVALID_ARGUMENT);
  }
  SUBCASE("progress callback aborts loading") {
    dianoia_model_params p = dianoia_model_default_params();
    p.progress = [](float, void*) { return false; };
    CHECK(dianoia_model_load(stories_path().c_str(), &p, &m) == DIANOIA_ERR_CANCELLED);
    CHECK(m == nullptr);
  }
}

TEST_CASE("capi errors: null handles and buffers") {
  int32_t ids[8];
  size_t n = 0;
  char buf[8];
  CHECK(dianoia_tokenize(nullptr, "a", 1, false, false, ids, 8, &n) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_last_error()).find("model is NULL") != std::string::npos);
  CHECK(dianoia_detokenize(nullptr, ids, 1, false, buf, 8, &n) == DIANOIA_ERR_INVALID_ARGUMENT);
  dianoia_session* s = nullptr;
  CHECK(dianoia_session_create(nullptr, nullptr, &s) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(dianoia_session_complete(nullptr, "x", 1, nullptr, no_op, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(dianoia_session_chat(nullptr, nullptr, 0, nullptr, no_op, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
  dianoia_session_cancel(nullptr);  // a no-op, not a crash
  dianoia_session_free(nullptr);
  dianoia_model_free(nullptr);
  dianoia_model_info info{};
  info.struct_size = sizeof info;
  CHECK(dianoia_model_get_info(nullptr, &info) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(dianoia_status_string(DIANOIA_ERR_FORMAT)) == "DIANOIA_ERR_FORMAT");
  CHECK(dianoia_version() == DIANOIA_VERSION_MAJOR * 10000 + DIANOIA_VERSION_MINOR * 100 + DIANOIA_VERSION_PATCH);
}

TEST_CASE("capi errors: bad text, short buffers, over-long prompts, vocab-only sessions") {
  dianoia_model_params mp = dianoia_model_default_params();
  mp.context_length = 64;
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(stories_path().c_str(), &mp, &m) == DIANOIA_OK);
  int32_t ids[4];
  size_t n = 0;
  SUBCASE("invalid UTF-8") {
    CHECK(dianoia_tokenize(m, "a\xff" "b", 3, false, false, ids, 4, &n) == DIANOIA_ERR_INVALID_ARGUMENT);
    CHECK(std::string(dianoia_last_error()).find("UTF-8") != std::string::npos);
    dianoia_session* s = nullptr;
    REQUIRE(dianoia_session_create(m, nullptr, &s) == DIANOIA_OK);
    CHECK(dianoia_session_complete(s, "\xc3", 1, nullptr, no_op, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
    dianoia_chat_message msg{"user", "\xed\xa0\x80"};  // a UTF-16 surrogate encoded as UTF-8
    CHECK(dianoia_session_chat(s, &msg, 1, nullptr, no_op, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
    dianoia_session_free(s);
  }
  SUBCASE("buffer too small reports the size needed") {
    const char* text = "Once upon a time there was a dog";
    CHECK(dianoia_tokenize(m, text, std::strlen(text), false, false, ids, 4, &n) == DIANOIA_ERR_BUFFER_TOO_SMALL);
    CHECK(n > 4);
    std::vector<int32_t> all(n);
    CHECK(dianoia_tokenize(m, text, std::strlen(text), false, false, all.data(), all.size(), &n) == DIANOIA_OK);
    char small[4];
    size_t nb = 0;
    CHECK(dianoia_detokenize(m, all.data(), all.size(), false, small, 4, &nb) == DIANOIA_ERR_BUFFER_TOO_SMALL);
    CHECK(nb == std::strlen(text) + 0);
  }
  SUBCASE("unknown token ids") {
    int32_t bad[2] = {1, 100000};
    char out[16];
    size_t nb = 0;
    CHECK(dianoia_detokenize(m, bad, 2, false, out, 16, &nb) == DIANOIA_ERR_INVALID_ARGUMENT);
    dianoia_session* s = nullptr;
    REQUIRE(dianoia_session_create(m, nullptr, &s) == DIANOIA_OK);
    CHECK(dianoia_session_complete_tokens(s, bad, 2, nullptr, no_op, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
    dianoia_session_free(s);
  }
  SUBCASE("over-long prompt") {
    dianoia_session* s = nullptr;
    REQUIRE(dianoia_session_create(m, nullptr, &s) == DIANOIA_OK);
    std::string prompt;
    for (int i = 0; i < 100; ++i) prompt += "the dog ran. ";
    CHECK(dianoia_session_complete(s, prompt.data(), prompt.size(), nullptr, no_op, nullptr) == DIANOIA_ERR_CONTEXT_FULL);
    CHECK(std::string(dianoia_last_error()).find("context") != std::string::npos);
    dianoia_session_free(s);
  }
  SUBCASE("bad generate params") {
    dianoia_session* s = nullptr;
    REQUIRE(dianoia_session_create(m, nullptr, &s) == DIANOIA_OK);
    auto p = dianoia_generate_default_params();
    p.top_p = -1;
    CHECK(dianoia_session_complete(s, "a", 1, &p, no_op, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
    p = dianoia_generate_default_params();
    const int bogus = 42;  // what a C caller can store in an enum field (a C++ cast to it would be UB)
    std::memcpy(&p.reasoning, &bogus, sizeof bogus);
    CHECK(dianoia_session_complete(s, "a", 1, &p, no_op, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
    CHECK(dianoia_session_complete(s, "a", 1, nullptr, nullptr, nullptr) == DIANOIA_ERR_INVALID_ARGUMENT);
    dianoia_session_free(s);
    auto sp = dianoia_session_default_params();
    std::memcpy(&sp.kv_type, &bogus, sizeof bogus);
    dianoia_session* s2 = nullptr;
    CHECK(dianoia_session_create(m, &sp, &s2) == DIANOIA_ERR_INVALID_ARGUMENT);
    CHECK(s2 == nullptr);
  }
  SUBCASE("a model without a chat template") {
    dianoia_chat_message msg{"user", "hi"};
    char out[64];
    size_t nb = 0;
    CHECK(dianoia_chat_apply_template(m, nullptr, &msg, 1, true, nullptr, out, 64, &nb) == DIANOIA_ERR_UNSUPPORTED);
    // An explicit template works without a model; a broken one names line and column.
    CHECK(dianoia_chat_apply_template(nullptr, "{{ messages[0].content }}!", &msg, 1, true, nullptr, out, 64, &nb) == DIANOIA_OK);
    CHECK(std::string(out, nb) == "hi!");
    CHECK(dianoia_chat_apply_template(nullptr, "{% if %}", &msg, 1, true, nullptr, out, 64, &nb) == DIANOIA_ERR_FORMAT);
    CHECK(std::string(dianoia_last_error()).find("line 1") != std::string::npos);
  }
  dianoia_model_free(m);

  SUBCASE("vocab-only models tokenize but cannot generate") {
    dianoia_model_params vp = dianoia_model_default_params();
    vp.vocab_only = true;
    dianoia_model* v = nullptr;
    const std::string vocab = dianoia::test::data_dir() + "/vocab/ggml-vocab-gpt-2.gguf";
    REQUIRE(dianoia_model_load(vocab.c_str(), &vp, &v) == DIANOIA_OK);
    CHECK(dianoia_tokenize(v, "Hello world", 11, false, false, ids, 4, &n) == DIANOIA_OK);
    CHECK(n == 2);
    CHECK(ids[0] == 15496);
    CHECK(ids[1] == 995);
    dianoia_session* s = nullptr;
    CHECK(dianoia_session_create(v, nullptr, &s) == DIANOIA_ERR_INVALID_ARGUMENT);
    CHECK(std::string(dianoia_last_error()).find("vocab-only") != std::string::npos);
    dianoia_model_free(v);
  }
}
