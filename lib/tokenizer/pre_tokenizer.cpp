#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.hpp"

#include <pcre2.h>

#include <array>
#include <string>
#include <utility>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {

// The patterns, as llama.cpp's llama-vocab.cpp has them. Where llama.cpp rewrote a tokenizer.json
// pattern for std::regex ((?i:...) spelled out as [sS] etc.), its rewrite is kept: it is what the
// reference tokenizations were checked against.
constexpr std::string_view k_gpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr std::string_view k_llama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view k_qwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Code points are escaped: the class holds letters (U+1F7D, U+2126, U+212A, ...) that Unicode normalization of
// the source text would silently change into other characters.
constexpr std::string_view k_deepseek_llm_letters =
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}"
    "\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}"
    "\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}"
    "\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"
    "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"
    "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-"
    "\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}"
    "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}"
    "\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}"
    "\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}"
    "\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}"
    "\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}"
    "\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}"
    "\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-"
    "\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+";
constexpr std::string_view k_cjk = "[一-龥ࠀ-一가-퟿]+";
constexpr std::string_view k_poro = R"( ?[^(\s|.,!?…。，、।۔،)]+)";
constexpr std::string_view k_tekken =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const pre_tokenizer_spec k_spec_default{
    {R"([\p{P}\$\+<=>\^~\|]+)", k_gpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}, false, false};
const pre_tokenizer_spec k_spec_gpt2{{k_gpt2}, false, false};
const pre_tokenizer_spec k_spec_llama3{{k_llama3}, true, true};
const pre_tokenizer_spec k_spec_llama3_regex{{k_llama3}, false, false};  // dbrx, smaug, chatglm4
const pre_tokenizer_spec k_spec_qwen2{{k_qwen2}, false, false};
const pre_tokenizer_spec k_spec_deepseek_llm{
    {"[\r\n]", k_deepseek_llm_letters, "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", k_cjk, R"(\p{N}+)"}, false, false};
const pre_tokenizer_spec k_spec_deepseek_coder{
    {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", k_cjk, R"(\p{N})"}, false, false};
const pre_tokenizer_spec k_spec_deepseek_v3{
    {R"(\p{N}{1,3})", "[一-龥぀-ゟ゠-ヿ]+",
     "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
     "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"},
    false, false};
const pre_tokenizer_spec k_spec_falcon{{R"([\p{P}\$\+<=>\^~\|`]+)", k_gpt2, "[0-9][0-9][0-9]"}, false, false};
const pre_tokenizer_spec k_spec_starcoder{{R"(\p{N})", k_gpt2}, false, false};
const pre_tokenizer_spec k_spec_poro{{k_poro}, false, false};
const pre_tokenizer_spec k_spec_viking{{k_poro, R"(\p{N})"}, false, false};
const pre_tokenizer_spec k_spec_tekken{{k_tekken}, true, true};
const pre_tokenizer_spec k_spec_chameleon{{"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
                                           R"(([\t\n]|    |  ))", R"(\p{N})", R"([\p{P}!-/:-@\[-`{-~])", k_gpt2},
                                          false, true};

struct named_spec {
  std::string_view name;
  const pre_tokenizer_spec* spec;
};

// tokenizer.ggml.pre values -> patterns, following llama.cpp's name table.
const std::array k_specs = {
    named_spec{"default", &k_spec_default},
    named_spec{"llama3", &k_spec_llama3},
    named_spec{"llama-v3", &k_spec_llama3},
    named_spec{"llama-bpe", &k_spec_llama3},
    named_spec{"falcon3", &k_spec_llama3},
    named_spec{"dbrx", &k_spec_llama3_regex},
    named_spec{"smaug-bpe", &k_spec_llama3_regex},
    named_spec{"chatglm-bpe", &k_spec_llama3_regex},
    named_spec{"deepseek-llm", &k_spec_deepseek_llm},
    named_spec{"deepseek-coder", &k_spec_deepseek_coder},
    named_spec{"deepseek-v3", &k_spec_deepseek_v3},
    named_spec{"falcon", &k_spec_falcon},
    named_spec{"mpt", &k_spec_gpt2},
    named_spec{"gpt-2", &k_spec_gpt2},
    named_spec{"phi-2", &k_spec_gpt2},
    named_spec{"olmo", &k_spec_gpt2},
    named_spec{"jais", &k_spec_gpt2},
    named_spec{"roberta-bpe", &k_spec_gpt2},
    named_spec{"gigachat", &k_spec_gpt2},
    named_spec{"jina-es", &k_spec_gpt2},
    named_spec{"jina-de", &k_spec_gpt2},
    named_spec{"jina-v1-en", &k_spec_gpt2},
    named_spec{"jina-v2-es", &k_spec_gpt2},
    named_spec{"jina-v2-de", &k_spec_gpt2},
    named_spec{"jina-v2-code", &k_spec_gpt2},
    named_spec{"starcoder", &k_spec_starcoder},
    named_spec{"refact", &k_spec_starcoder},
    named_spec{"command-r", &k_spec_starcoder},
    named_spec{"smollm", &k_spec_starcoder},
    named_spec{"codeshell", &k_spec_starcoder},
    named_spec{"exaone", &k_spec_starcoder},
    named_spec{"minerva-7b", &k_spec_starcoder},
    named_spec{"qwen2", &k_spec_qwen2},
    named_spec{"deepseek-r1-qwen", &k_spec_qwen2},
    named_spec{"stablelm2", &k_spec_qwen2},
    named_spec{"megrez", &k_spec_qwen2},
    named_spec{"poro-chat", &k_spec_poro},
    named_spec{"bloom", &k_spec_poro},
    named_spec{"gpt3-finnish", &k_spec_poro},
    named_spec{"viking", &k_spec_viking},
    named_spec{"tekken", &k_spec_tekken},
    named_spec{"chameleon", &k_spec_chameleon},
};

// Per-thread scratch for matching: match data and a JIT stack larger than the 32 KiB default, so that
// long runs (100k identical characters) do not exhaust it. Sized for one ovector pair.
struct match_scratch {
  pcre2_match_data* md = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* mctx = nullptr;
  match_scratch() {
    md = pcre2_match_data_create(1, nullptr);
    stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    mctx = pcre2_match_context_create(nullptr);
    if (!md || !stack || !mctx) throw error(errc::out_of_memory, "tokenizer: cannot allocate regex scratch");
    pcre2_jit_stack_assign(mctx, nullptr, stack);
  }
  ~match_scratch() {
    pcre2_match_context_free(mctx);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(md);
  }
};

match_scratch& thread_scratch() {
  thread_local match_scratch s;
  return s;
}

}  // namespace

const pre_tokenizer_spec* find_pre_tokenizer(std::string_view name) {
  for (const auto& s : k_specs)
    if (s.name == name) return s.spec;
  return nullptr;
}

struct regex_splitter::compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~compiled() { pcre2_code_free(code); }
};

regex_splitter::regex_splitter(const pre_tokenizer_spec& spec) {
  for (std::string_view pat : spec.patterns) {
    auto c = std::make_unique<compiled>();
    int err = 0;
    PCRE2_SIZE err_off = 0;
    // DOLLAR_ENDONLY: '$' means the end of the piece (std::regex / HF semantics), not "before a final \n".
    c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(),
                            PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &err, &err_off,
                            nullptr);
    if (!c->code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      fail(errc::internal, "tokenizer: pre-tokenizer regex does not compile at {}: {}", err_off,
           reinterpret_cast<const char*>(msg));
    }
    c->jit = pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE) == 0;
    regexes_.push_back(std::move(c));
  }
}

regex_splitter::~regex_splitter() = default;

void regex_splitter::split(std::string_view text, std::vector<text_span>& out, scratch& buffers) const {
  if (text.empty()) return;
  match_scratch& s = thread_scratch();
  std::vector<text_span>& cur = buffers.cur;
  std::vector<text_span>& next = buffers.next;
  cur.assign(1, {0, text.size()});
  for (const auto& re : regexes_) {
    next.clear();
    for (const text_span piece : cur) {
      // Each regex sees one piece as its whole subject, so lookaheads and '$' stop at the piece's end.
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.offset);
      size_t pos = 0, gap_start = 0;
      while (pos < piece.length) {
        int rc = pcre2_match(re->code, subject, piece.length, pos, 0, s.md, s.mctx);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
          rc = pcre2_match(re->code, subject, piece.length, pos, PCRE2_NO_JIT, s.md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
          PCRE2_UCHAR msg[256];
          pcre2_get_error_message(rc, msg, sizeof msg);
          fail(errc::internal, "tokenizer: pre-tokenizer regex failed: {}", reinterpret_cast<const char*>(msg));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.md);
        size_t m0 = ov[0], m1 = ov[1];
        if (m1 == m0) {
          // An empty match splits nothing; step over one character (or invalid byte) and go on.
          pos = m0 + 1;
          while (pos < piece.length && (static_cast<uint8_t>(subject[pos]) & 0xC0) == 0x80) ++pos;
          continue;
        }
        if (m0 > gap_start) next.push_back({piece.offset + gap_start, m0 - gap_start});
        next.push_back({piece.offset + m0, m1 - m0});
        gap_start = pos = m1;
      }
      if (gap_start < piece.length) next.push_back({piece.offset + gap_start, piece.length - gap_start});
    }
    std::swap(cur, next);
  }
  out.insert(out.end(), cur.begin(), cur.end());
}

}  // namespace dianoia::detail
