// The cost of grammar-constrained decoding per token against the decode time per token, on a real
// model (docs/decisions.md: goal <= 10% on Qwen2.5-Coder-0.5B):
//   bench_grammar_mask MODEL.gguf [THREADS] [TOKENS]
// Generates an answer to a chat prompt greedily with a JSON schema (reasoning off), then replays the
// tokens it produced through a fresh matcher, timing the mask (compute + applying it to the logits)
// and the commit of each token alone. Also: the one-off costs (vocabulary adapter, grammar compile)
// and the same prompt unconstrained.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "grammar/grammar.hpp"
#include "runtime/loaded_model.hpp"
#include "runtime/session.hpp"

using namespace dianoia::detail;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* k_schema = R"({"type":"object","properties":{
  "name":{"type":"string"},"language":{"type":"string","enum":["python","c++","rust","go"]},
  "lines":{"type":"integer","minimum":1},"tags":{"type":"array","items":{"type":"string"},"maxItems":4},
  "summary":{"type":"string"}},"required":["name","language","lines","tags","summary"],
  "additionalProperties":false})";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [THREADS] [TOKENS]\n", argv[0]);
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int n_tokens = argc > 3 ? std::atoi(argv[3]) : 96;
  try {
    const auto lm = loaded_model::load(argv[1], {});
    const tokenizer& tok = lm->tok();
    session s(lm->net(), tok, 2048, threads);
    const std::string chat =
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nDescribe a small "
        "command-line program that counts words in a file, as JSON with its name, language, number of "
        "lines, tags and a one-sentence summary.<|im_end|>\n<|im_start|>assistant\n";
    const auto prompt = tok.encode(chat, false, true);

    generate_options o;
    o.sampling.temperature = 0;
    o.max_tokens = n_tokens;
    o.reasoning = reasoning_mode::off;
    auto ignore = [](channel, std::string_view) { return true; };
    const auto free_st = s.generate(prompt, o, ignore);
    const uint32_t free_n = free_st.content_tokens;

    o.grammar = {grammar_kind::json_schema, k_schema};
    std::string answer;
    std::vector<int32_t> ids;
    const auto st = s.generate(prompt, o, [&](channel, std::string_view t) { answer += t; return true; }, true,
                               [&](const token_event& e) { if (!e.injected) ids.push_back(e.id); return true; });

    // Replay through a fresh matcher: the grammar's own cost, token by token.
    double t0 = now_s();
    auto vocab = std::make_shared<const grammar_vocab>(tok, std::vector<int32_t>{tok.eot(), tok.eos()});
    const double vocab_s = now_s() - t0;
    t0 = now_s();
    grammar_matcher gm(vocab, o.grammar);
    const double compile_s = now_s() - t0;
    std::vector<float> logits(lm->hp().n_vocab, 0.0f);
    std::vector<double> mask_ms;
    double commit_s = 0;
    for (int32_t id : ids) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      t0 = now_s();
      gm.mask(logits);
      mask_ms.push_back((now_s() - t0) * 1e3);
      t0 = now_s();
      gm.accept(id);
      commit_s += now_s() - t0;
    }
    double sum = 0, worst = 0;
    for (double m : mask_ms) {
      sum += m;
      worst = std::max(worst, m);
    }
    std::vector<double> sorted = mask_ms;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = std::max<size_t>(mask_ms.size(), 1);
    const double mean_ms = sum / static_cast<double>(n);
    const double p50 = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    const double free_ms = free_n ? free_st.generate_seconds * 1e3 / free_n : 0;
    const double cons_ms = st.content_tokens ? st.generate_seconds * 1e3 / st.content_tokens : 0;
    std::printf("model: %s, %d threads, vocabulary %d\n", argv[1], threads, tok.n_vocab());
    std::printf("one-off: vocabulary adapter %.1f ms, schema compile %.2f ms\n", vocab_s * 1e3, compile_s * 1e3);
    std::printf("unconstrained: %u tokens, %.2f ms/token\n", free_n, free_ms);
    std::printf("constrained:   %u tokens, %.2f ms/token (stop %d)\n", st.content_tokens, cons_ms,
                static_cast<int>(st.stop));
    std::printf("mask per token: mean %.3f ms, median %.3f ms, max %.3f ms; commit mean %.3f ms\n", mean_ms, p50,
                worst, commit_s * 1e3 / static_cast<double>(n));
    std::printf("mask + commit / unconstrained decode per token: %.1f%%\n",
                free_ms > 0 ? 100.0 * (mean_ms + commit_s * 1e3 / static_cast<double>(n)) / free_ms : 0.0);
    std::printf("answer: %s\n", answer.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
