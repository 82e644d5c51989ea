// dianoia_model_params::use_mmap: a model read into memory keeps working after its file is truncated;
// a mapped one is killed by SIGBUS, as the header says (checked in a child process). An older caller's
// smaller struct gets the default (mapped).
#include <doctest/doctest.h>

#include <dianoia.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "dianoia/dianoia.hpp"
#include "test_support.hpp"

namespace {

std::string stories_path() { return dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf"; }

// A private copy of the model, to truncate.
std::string copy_model(const std::string& name) {
  const std::string dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  const std::string p = dir + "/dianoia-test-" + name + "-" + std::to_string(::getpid()) + ".gguf";
  std::filesystem::copy_file(stories_path(), p, std::filesystem::copy_options::overwrite_existing);
  return p;
}

std::string greedy_text(const dianoia::model& m) {
  dianoia_session_params sp = dianoia_session_default_params();
  sp.context_length = 128;
  dianoia::session s(m, sp);
  auto p = dianoia_generate_default_params();
  p.temperature = 0;
  p.max_tokens = 48;
  std::string text;
  s.complete("Once upon a time", [&](const dianoia::event& e) {
    if (e.type == DIANOIA_EVENT_CONTENT) text += e.text;
    return true;
  }, p);
  return text;
}

}  // namespace

TEST_CASE("use_mmap = false: the model survives its file being truncated") {
  REQUIRE_MESSAGE(dianoia::test::file_exists(stories_path()), "missing shared data file " << stories_path());
  CHECK(dianoia_model_default_params().use_mmap);
  const std::string expected = greedy_text(dianoia::model(stories_path()));
  REQUIRE(expected.size() > 20);

  const std::string path = copy_model("no-mmap");
  dianoia::model_params mp;
  mp.use_mmap = false;
  dianoia::model m(path, mp);
  REQUIRE(::truncate(path.c_str(), 0) == 0);
  std::remove(path.c_str());
  CHECK(greedy_text(m) == expected);
  CHECK(greedy_text(m) == expected);
}

TEST_CASE("use_mmap = false: the memory cap is checked before the file is read") {
  dianoia_model_params p = dianoia_model_default_params();
  p.use_mmap = false;
  p.max_memory_bytes = 4096;
  dianoia_model* m = nullptr;
  CHECK(dianoia_model_load(stories_path().c_str(), &p, &m) == DIANOIA_ERR_OUT_OF_MEMORY);
  CHECK(m == nullptr);
  CHECK(std::string(dianoia_last_error()).find("read into memory") != std::string::npos);
}

TEST_CASE("use_mmap: a caller built before the field existed gets the mapping") {
  dianoia_model_params p = dianoia_model_default_params();
  p.use_mmap = false;  // past the old struct's end: must be ignored
  p.struct_size = offsetof(dianoia_model_params, use_mmap);
  dianoia_model* m = nullptr;
  REQUIRE(dianoia_model_load(stories_path().c_str(), &p, &m) == DIANOIA_OK);
  dianoia_model_free(m);
  dianoia_model_params q;
  q.use_mmap = false;
  dianoia_model_params_init(&q, offsetof(dianoia_model_params, use_mmap));
  CHECK(q.use_mmap == false);  // not written past the size given
  CHECK(q.struct_size == offsetof(dianoia_model_params, use_mmap));
}

TEST_CASE("use_mmap = true: a mapped model whose file is truncated dies with SIGBUS (documented, not prevented)") {
  const std::string path = copy_model("mmap");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: load mapped, truncate, generate. Reaching _exit(0) would mean the weights were read
    // from somewhere else than the file, contradicting the header.
    dianoia::model m(path);
    if (::truncate(path.c_str(), 0) != 0) ::_exit(3);
    (void)greedy_text(m);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  std::remove(path.c_str());
  // Plain builds die by the signal; AddressSanitizer catches SIGBUS itself, reports it and exits non-zero.
  const bool sigbus = WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
  const bool sanitizer_exit = WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3;
  CHECK((sigbus || sanitizer_exit));
}
