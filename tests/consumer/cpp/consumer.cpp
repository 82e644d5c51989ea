// A C++17 program that uses an installed dianoia through the header-only C++ API.
//
//   consumer_cpp <path/to/stories260K.gguf>
//
// Same checks as ../c/consumer.c: greedy generation of 32 tokens from BOS on stories260K (context set
// to 512: the converted GGUF says 128) against the first 32 ids of llama2.c's greedy reference,
// hard-coded below as an independent reference, plus error paths (exceptions from the C++ API, status
// codes from the C ABI underneath).
#include <dianoia/dianoia.hpp>

#include <array>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t kVocab = 512;
// reference_outputs.json: greedy_from_bos.generated_ids[0:32] (prompt: BOS = 1).
constexpr std::array<std::int32_t, 32> kReference{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315,
                                                  421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408,
                                                  419, 292, 411, 322, 265, 282, 295, 433, 426, 385};
// Those ids decoded with tok512 (llama2.c decode; leading space of the first piece dropped).
constexpr std::string_view kReferenceText =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One";

int g_failures = 0;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "consumer.cpp:%d: CHECK failed: %s (last error: \"%s\")\n", line, what,
                 dianoia_last_error());
    ++g_failures;
  }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

std::string_view skip_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// Runs `fn`, which must throw dianoia::error with status `want` and a message.
template <class F>
void expect_error(dianoia_status want, const char* what, F&& fn) {
  try {
    fn();
    std::fprintf(stderr, "consumer.cpp: %s did not throw (expected %s)\n", what, dianoia_status_string(want));
    ++g_failures;
  } catch (const dianoia::error& e) {
    if (e.status() != want || std::string_view(e.what()).empty()) {
      std::fprintf(stderr, "consumer.cpp: %s threw %s \"%s\", expected %s\n", what, dianoia_status_string(e.status()),
                   e.what(), dianoia_status_string(want));
      ++g_failures;
    } else {
      std::printf("error path ok: %s: %s: %s\n", what, dianoia_status_string(e.status()), e.what());
    }
  }
}

void check_error_paths(const char* path) {
  // Through the C ABI: a null handle.
  dianoia_model_info info{};
  info.struct_size = sizeof info;
  CHECK(dianoia_model_get_info(nullptr, &info) == DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(*dianoia_last_error() != '\0');

  // Through the C++ API: a file that does not exist, and a session on a moved-from (null) model.
  expect_error(DIANOIA_ERR_IO, "model(nonexistent path)", [] {
    dianoia::model m("/nonexistent/dianoia-consumer/no-such-model.gguf", dianoia::model::params());
  });
  expect_error(DIANOIA_ERR_INVALID_ARGUMENT, "session(moved-from model)", [&] {
    dianoia::model::params mp;
    mp.context_length = 512;
    dianoia::model m(path, mp);
    dianoia::model other = std::move(m);
    dianoia::session s(m);  // NOLINT(bugprone-use-after-move): m holds no handle any more
  });
}

void check_generation(const char* path) {
  dianoia::model::params mp;
  mp.context_length = 512;  // the converted GGUF says 128; the model was trained with 512
  const dianoia::model model(path, mp);

  const dianoia_model_info info = model.info();
  CHECK(info.n_vocab == kVocab);
  CHECK(info.context_length == 512);
  CHECK(info.bos_token == 1);
  CHECK(std::string_view(info.architecture) == "llama");

  dianoia::session session(model);

  // Greedy generation from BOS.
  dianoia_generate_params gp = dianoia_generate_default_params();
  gp.max_tokens = static_cast<std::int32_t>(kReference.size());
  gp.temperature = 0.0f;
  gp.reasoning = DIANOIA_REASONING_OFF;
  std::string text;
  int n_done = 0;
  const dianoia_event done = session.complete(
      std::vector<std::int32_t>{1},
      [&](const dianoia::event& ev) {
        if (ev.type == DIANOIA_EVENT_CONTENT || ev.type == DIANOIA_EVENT_REASONING) text.append(ev.text);
        if (ev.type == DIANOIA_EVENT_DONE) ++n_done;
        return true;
      },
      gp);
  CHECK(n_done == 1);
  CHECK(done.stop_reason == DIANOIA_STOP_MAX_TOKENS);
  CHECK(done.content_tokens == kReference.size());
  if (skip_spaces(text) != kReferenceText) {
    std::fprintf(stderr, "generated text differs from the reference:\n  got:  \"%s\"\n  want: \"%s\"\n", text.c_str(),
                 std::string(kReferenceText).c_str());
    ++g_failures;
  }
  const std::string detok =
      model.detokenize(std::vector<std::int32_t>(kReference.begin(), kReference.end()), /*skip_special=*/true);
  CHECK(skip_spaces(detok) == kReferenceText);

  // The ids: argmax of the logits at each position of BOS + reference[0..30].
  std::vector<std::int32_t> prompt{1};
  prompt.insert(prompt.end(), kReference.begin(), kReference.end() - 1);
  const std::vector<float> logits = session.eval_logits(prompt, prompt.size(), kVocab);
  int mismatches = 0;
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    const float* row = logits.data() + i * kVocab;
    std::size_t best = 0;
    for (std::size_t v = 1; v < kVocab; ++v)
      if (row[v] > row[best]) best = v;
    if (static_cast<std::int32_t>(best) != kReference[i] && mismatches++ < 5)
      std::fprintf(stderr, "position %zu: greedy id %zu, reference %d\n", i, best, kReference[i]);
  }
  if (mismatches) {
    std::fprintf(stderr, "%d of %zu greedy ids differ from the reference\n", mismatches, kReference.size());
    ++g_failures;
  }
  std::printf("generated: \"%s\"\n", text.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s path/to/stories260K.gguf\n", argv[0]);
    return 2;
  }
  std::printf("dianoia %s (header %d.%d.%d)\n", dianoia_version_string(), DIANOIA_VERSION_MAJOR,
              DIANOIA_VERSION_MINOR, DIANOIA_VERSION_PATCH);
  CHECK(dianoia::version() / 10000 == DIANOIA_VERSION_MAJOR);
  try {
    check_error_paths(argv[1]);
    check_generation(argv[1]);
  } catch (const dianoia::error& e) {
    std::fprintf(stderr, "consumer.cpp: unexpected dianoia::error %s: %s\n", dianoia_status_string(e.status()),
                 e.what());
    ++g_failures;
  }
  if (g_failures) {
    std::printf("FAIL (%d checks)\n", g_failures);
    return 1;
  }
  std::printf("PASS\n");
  return 0;
}
