// Hyper-parameters that contradict their own tensors (lib/model/shape_checks): Hugging Face folders with
// an edited config.json, GGUF files with edited metadata (both made here from the tiny fixtures), and
// DeepSeek's MoE / MLA fields over a tensor table (its forward pass is not written, its shapes are known).
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "gguf/gguf.hpp"
#include "model/registry.hpp"
#include "model/shape_checks.hpp"
#include "runtime/hf_weights.hpp"
#include "runtime/loaded_model.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& p) { return dianoia::test::fixtures_dir() + "/" + p; }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  REQUIRE(f.good());
}

// `text` with the JSON field `"key": old` set to `"key": value` (the field must be there once).
std::string set_field(std::string text, const std::string& key, const std::string& value) {
  const std::string k = "\"" + key + "\": ";
  const size_t at = text.find(k);
  REQUIRE(at != std::string::npos);
  const size_t v = at + k.size();
  const size_t end = text.find_first_of(",\n}", v);
  return text.replace(v, end - v, value);
}

// A copy of a fixture folder in /tmp whose config.json has `key` set to `value`.
std::string hf_copy(const std::string& from, const std::string& key, const std::string& value) {
  const std::string dir = "/tmp/dianoia_shape_" + fs::path(from).filename().string() + "_" + key;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(fixture(from)))
    if (e.path().filename() != "config.json" && e.path().extension() != ".gguf" && e.path().extension() != ".json")
      fs::copy_file(e.path(), dir / e.path().filename());
  for (const char* j : {"tokenizer.json", "tokenizer_config.json", "model.safetensors.index.json"})
    if (fs::exists(fixture(from) + "/" + j)) fs::copy_file(fixture(from) + "/" + j, dir + "/" + j);
  write_file(dir + "/config.json", set_field(dianoia::test::read_file(fixture(from) + "/config.json"), key, value));
  return dir;
}

// The error of opening an HF folder's weights against its config (read_hf_config + open_hf_weights,
// what loading does before it copies anything), or "" if none.
std::string hf_error(const std::string& dir) {
  try {
    const hparams hp = read_hf_config(dir);
    auto w = open_hf_weights(dir, hp);
    w->materialize();
    create_model(hp, *w);
  } catch (const error& e) {
    CHECK(e.code() == errc::format);
    return e.what();
  }
  return "";
}

// ---- GGUF: a copy of a file with metadata changed (u32 keys set or added, keys removed) and tensors
// left out; the tensor data are copied as they are.
struct gguf_edit {
  std::map<std::string, uint32_t> set_u32;
  std::set<std::string> drop_tensors_with_prefix;
};

struct out_bytes {
  std::string b;
  template <class T>
  void put(T v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(std::string_view s) {
    put<uint64_t>(s.size());
    b.append(s);
  }
};

void put_value(out_bytes& o, const gguf::value& v) {
  using gguf::value_type;
  switch (v.type) {
    case value_type::u8: case value_type::i8: case value_type::boolean: o.put<uint8_t>(static_cast<uint8_t>(v.num.u)); break;
    case value_type::u16: case value_type::i16: o.put<uint16_t>(static_cast<uint16_t>(v.num.u)); break;
    case value_type::u32: case value_type::i32: o.put<uint32_t>(static_cast<uint32_t>(v.num.u)); break;
    case value_type::u64: case value_type::i64: o.put<uint64_t>(v.num.u); break;
    case value_type::f32: o.put<float>(static_cast<float>(v.num.f)); break;
    case value_type::f64: o.put<double>(v.num.f); break;
    case value_type::string: o.str(v.str); break;
    case value_type::array:
      REQUIRE(v.elem_type != value_type::array);
      o.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
      o.put<uint64_t>(v.count);
      o.b.append(reinterpret_cast<const char*>(v.elems), v.elems_bytes);
      break;
  }
}

// The header (magic to tensor infos, padded to the alignment) of `f` with `ed` applied; the tensors'
// offsets are kept, so the original data section follows it unchanged.
std::string gguf_header(const gguf::file& f, const gguf_edit& ed) {
  out_bytes o;
  o.b = "GGUF";
  o.put<uint32_t>(3);
  std::vector<const tensor_view*> keep;
  for (const auto& t : f.tensors()) {
    bool drop = false;
    for (const auto& p : ed.drop_tensors_with_prefix) drop |= t.name.rfind(p, 0) == 0;
    if (!drop) keep.push_back(&t);
  }
  std::map<std::string, uint32_t> added = ed.set_u32;
  for (const auto& kv : f.metadata()) added.erase(kv.first);
  o.put<uint64_t>(keep.size());
  o.put<uint64_t>(f.metadata().size() + added.size());
  for (const auto& [k, v] : f.metadata()) {
    o.str(k);
    if (auto it = ed.set_u32.find(k); it != ed.set_u32.end()) {
      o.put<uint32_t>(static_cast<uint32_t>(gguf::value_type::u32));
      o.put<uint32_t>(it->second);
      continue;
    }
    o.put<uint32_t>(static_cast<uint32_t>(v.type));
    put_value(o, v);
  }
  for (const auto& [k, v] : added) {
    o.str(k);
    o.put<uint32_t>(static_cast<uint32_t>(gguf::value_type::u32));
    o.put<uint32_t>(v);
  }
  for (const auto* t : keep) {
    o.str(t->name);
    o.put<uint32_t>(t->n_dims);
    for (uint32_t d = 0; d < t->n_dims; ++d) o.put<uint64_t>(t->ne[d]);
    o.put<uint32_t>(static_cast<uint32_t>(t->type));
    o.put<uint64_t>(t->offset);
  }
  while (o.b.size() % f.alignment()) o.b.push_back('\0');
  return o.b;
}

std::string gguf_copy(const std::string& from, const std::string& name, const gguf_edit& ed) {
  auto f = gguf::file::open(fixture(from));
  REQUIRE(f->version() == 3);
  const std::string raw = dianoia::test::read_file(fixture(from));
  const size_t data_start = gguf_header(*f, {}).size();  // the original header, re-serialized
  REQUIRE(data_start < raw.size());
  const std::string path = "/tmp/dianoia_shape_" + name + ".gguf";
  write_file(path, gguf_header(*f, ed) + raw.substr(data_start));
  return path;
}

std::string gguf_error(const std::string& path) {
  try {
    auto f = gguf::file::open(path);
    create_model(*f);
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("HF config.json against its tensors: each field that a shape states") {
  const std::string q3 = "tiny_models/qwen3_qknorm";  // 64 wide, 4 x 32 heads, 2 KV, FFN 96, 2 layers, 128 tokens
  REQUIRE(hf_error(fixture(q3)) == "");
  struct bad {
    const char* key;
    const char* value;
    std::vector<std::string> says;
  };
  const bad cases[] = {
      {"vocab_size", "100", {"vocabulary: config.json 'vocab_size' = 100", "token_embd.weight", "has 128 rows"}},
      {"vocab_size", "200", {"vocabulary: config.json 'vocab_size' = 200", "has 128 rows"}},
      {"hidden_size", "48", {"hidden size: config.json 'hidden_size' = 48", "token_embd.weight", "has 64 columns"}},
      {"num_attention_heads", "2",
       {"heads x head size: config.json 'num_attention_heads' = 2 x config.json 'head_dim' = 32 (64)",
        "blk.0.attn_q.weight", "has 128 rows"}},
      {"num_key_value_heads", "1",
       {"KV heads x head size: config.json 'num_key_value_heads' = 1 x config.json 'head_dim' = 32 (32)",
        "blk.0.attn_k.weight", "has 64 rows"}},
      {"head_dim", "16", {"heads x head size", "'head_dim' = 16 (64)", "has 128 rows"}},
      {"intermediate_size", "80", {"FFN size: config.json 'intermediate_size' = 80", "blk.0.ffn_gate.weight", "has 96 rows"}},
      {"num_hidden_layers", "1", {"layer count: config.json 'num_hidden_layers' = 1", "model.layers.1.", "belongs to layer 1"}},
      {"num_hidden_layers", "3", {"layer count: config.json 'num_hidden_layers' = 3", "no tensor of block 2"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CAPTURE(c.value);
    const std::string msg = hf_error(hf_copy(q3, c.key, c.value));
    CAPTURE(msg);
    for (const auto& s : c.says) CHECK(msg.find(s) != std::string::npos);
  }
}

TEST_CASE("HF: the issue's folder (vocab_size 1000, 512 embedding rows) is refused by loading; padding is not") {
  // The embedding (512 rows) padded past the tokenizer (316 tokens) loads, with an info line.
  REQUIRE_NOTHROW(loaded_model::load(fixture("roundtrip/tiny_llama_hf"), load_options{}));
  const std::string dir = hf_copy("roundtrip/tiny_llama_hf", "vocab_size", "1000");
  CHECK_THROWS_WITH_AS(loaded_model::load(dir, load_options{}),
                       doctest::Contains("vocabulary: config.json 'vocab_size' = 1000 but tensor 'token_embd.weight'"),
                       error);
  // Fewer rows than the tokenizer has tokens, with a config that agrees with its tensors, is still refused.
  const std::string small = hf_copy("roundtrip/tiny_llama_hf", "intermediate_size", "49");
  CHECK_THROWS_WITH_AS(loaded_model::load(small, load_options{}), doctest::Contains("FFN size"), error);
}

TEST_CASE("GGUF metadata against its tensors: each field that a shape states") {
  const std::string f = "tiny_models/qwen3_qknorm/qwen3_qknorm.F32.gguf";
  REQUIRE(gguf_error(gguf_copy(f, "same", {})) == "");
  struct bad {
    const char* name;
    gguf_edit edit;
    std::vector<std::string> says;
  };
  const bad cases[] = {
      {"vocab", {{{"qwen3.vocab_size", 100}}, {}}, {"vocabulary: GGUF 'qwen3.vocab_size' = 100", "has 128 rows"}},
      {"embd", {{{"qwen3.embedding_length", 96}, {"qwen3.attention.key_length", 32}}, {}},
       {"hidden size: GGUF 'qwen3.embedding_length' = 96", "token_embd.weight", "has 64 columns"}},
      {"heads", {{{"qwen3.attention.head_count", 2}}, {}},
       {"heads x head size: GGUF 'qwen3.attention.head_count' = 2 x GGUF 'qwen3.attention.key_length' = 32 (64)",
        "blk.0.attn_q.weight", "has 128 rows"}},
      {"kv", {{{"qwen3.attention.head_count_kv", 1}}, {}},
       {"KV heads x head size: GGUF 'qwen3.attention.head_count_kv' = 1", "blk.0.attn_k.weight", "has 64 rows"}},
      {"hd", {{{"qwen3.attention.key_length", 16}, {"qwen3.attention.value_length", 16}, {"qwen3.rope.dimension_count", 16}}, {}},
       {"heads x head size", "'qwen3.attention.key_length' = 16 (64)", "has 128 rows"}},
      {"ff", {{{"qwen3.feed_forward_length", 80}}, {}},
       {"FFN size: GGUF 'qwen3.feed_forward_length' = 80", "blk.0.ffn_gate.weight", "has 96 rows"}},
      {"layers_less", {{{"qwen3.block_count", 1}}, {}},
       {"layer count: GGUF 'qwen3.block_count' = 1", "belongs to block 1"}},
      {"layers_more", {{{"qwen3.block_count", 3}}, {}}, {"layer count: GGUF 'qwen3.block_count' = 3", "no tensor of block 2"}},
      {"layers_dropped", {{}, {"blk.1."}}, {"layer count: GGUF 'qwen3.block_count' = 2", "no tensor of block 1"}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    const std::string msg = gguf_error(gguf_copy(f, c.name, c.edit));
    CAPTURE(msg);
    for (const auto& s : c.says) CHECK(msg.find(s) != std::string::npos);
  }
}

namespace {

// A tensor table without data: shapes are all the checks read.
class shape_table final : public tensor_source {
 public:
  void add(const std::string& name, std::vector<uint64_t> ne) {
    tensor_view t;
    t.name = name;
    t.n_dims = static_cast<uint32_t>(ne.size());
    for (size_t d = 0; d < ne.size(); ++d) t.ne[d] = ne[d];
    views_.push_back(std::move(t));
  }
  void set(const std::string& name, int d, uint64_t v) {
    for (auto& t : views_)
      if (t.name == name) t.ne[d] = v;
  }
  const std::string& source_name() const override { return name_; }
  const tensor_view* find_tensor(std::string_view n) const override {
    for (const auto& t : views_)
      if (t.name == n) return &t;
    return nullptr;
  }
  std::span<const tensor_view> all_tensors() const override { return views_; }

 private:
  std::string name_ = "table";
  std::vector<tensor_view> views_;
};

// DeepSeek-V2-Lite-like shapes, scaled down: 2 layers (the first dense), MLA, 4 routed + 1 shared experts.
hparams deepseek_hp(hparams_origin origin) {
  hparams hp;
  hp.arch = "deepseek2";
  hp.origin = origin;
  hp.n_vocab = 100;
  hp.n_embd = 32;
  hp.n_layer = 2;
  hp.n_head = 4;
  hp.n_head_kv = 4;
  hp.n_ff = 64;
  hp.mla = {/*q_lora*/ 24, /*kv_lora*/ 16, /*nope*/ 8, /*rope*/ 4, /*v*/ 8};
  hp.head_dim = 12;
  hp.rope_dim = 4;
  hp.moe.n_expert = 4;
  hp.moe.n_expert_used = 2;
  hp.moe.n_expert_shared = 1;
  hp.moe.n_ff_expert = 20;
  hp.moe.n_layer_dense_lead = 1;
  return hp;
}

shape_table deepseek_tensors(bool per_expert) {
  shape_table t;
  t.add("token_embd.weight", {32, 100});
  t.add("output.weight", {32, 100});
  t.add("output_norm.weight", {32});
  for (int l = 0; l < 2; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    t.add(p + "attn_norm.weight", {32});
    t.add(p + "attn_q_a.weight", {32, 24});
    t.add(p + "attn_q_a_norm.weight", {24});
    t.add(p + "attn_q_b.weight", {24, 4 * 12});
    t.add(p + "attn_kv_a_mqa.weight", {32, 16 + 4});
    t.add(p + "attn_kv_a_norm.weight", {16});
    t.add(p + "attn_kv_b.weight", {16, 4 * (8 + 8)});
    t.add(p + "attn_output.weight", {4 * 8, 32});
    t.add(p + "ffn_norm.weight", {32});
    if (l == 0) {
      t.add(p + "ffn_gate.weight", {32, 64});
      t.add(p + "ffn_up.weight", {32, 64});
      t.add(p + "ffn_down.weight", {64, 32});
      continue;
    }
    t.add(p + "ffn_gate_inp.weight", {32, 4});
    if (per_expert) {
      for (int e = 0; e < 4; ++e) {
        t.add(p + "ffn_gate_exps." + std::to_string(e) + ".weight", {32, 20});
        t.add(p + "ffn_up_exps." + std::to_string(e) + ".weight", {32, 20});
        t.add(p + "ffn_down_exps." + std::to_string(e) + ".weight", {20, 32});
      }
    } else {
      t.add(p + "ffn_gate_exps.weight", {32, 20, 4});
      t.add(p + "ffn_up_exps.weight", {32, 20, 4});
      t.add(p + "ffn_down_exps.weight", {20, 32, 4});
    }
    t.add(p + "ffn_gate_shexp.weight", {32, 20});
    t.add(p + "ffn_up_shexp.weight", {32, 20});
    t.add(p + "ffn_down_shexp.weight", {20, 32});
  }
  return t;
}

std::string table_error(const hparams& hp, const shape_table& t) {
  try {
    check_tensor_shapes(hp, t);
  } catch (const error& e) {
    CHECK(e.code() == errc::format);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("DeepSeek MoE and MLA fields against their tensors (HF per-expert views and GGUF stacked experts)") {
  for (bool per_expert : {true, false}) {
    CAPTURE(per_expert);
    const auto origin = per_expert ? hparams_origin::config_json : hparams_origin::gguf;
    const hparams good = deepseek_hp(origin);
    REQUIRE(table_error(good, deepseek_tensors(per_expert)) == "");
    struct bad {
      const char* name;
      void (*edit)(hparams&);
      std::string says;
    };
    const bad cases[] = {
        {"experts", [](hparams& h) { h.moe.n_expert = 8; }, per_expert ? "expert count: config.json 'n_routed_experts' = 8"
                                                                        : "expert count: GGUF 'deepseek2.expert_count' = 8"},
        {"expert ff", [](hparams& h) { h.moe.n_ff_expert = 24; }, "expert FFN size"},
        {"shared", [](hparams& h) { h.moe.n_expert_shared = 2; }, "shared experts x expert FFN size"},
        {"dense lead", [](hparams& h) { h.moe.n_layer_dense_lead = 2; }, "leading dense blocks"},
        {"no dense lead", [](hparams& h) { h.moe.n_layer_dense_lead = 0; }, "block 0 lacks a router"},
        {"q rank", [](hparams& h) { h.mla.q_lora_rank = 12; },
         per_expert ? "q latent rank: config.json 'q_lora_rank' = 12" : "q latent rank: GGUF 'deepseek2.attention.q_lora_rank' = 12"},
        {"kv rank", [](hparams& h) { h.mla.kv_lora_rank = 8; }, "KV latent rank + RoPE head size"},
        {"v head", [](hparams& h) { h.mla.v_head_dim = 4; }, "heads x (nope + value head size)"},
        {"heads", [](hparams& h) { h.n_head = 2; }, "heads x head size"},
        {"vocab", [](hparams& h) { h.n_vocab = 99; }, "vocabulary"},
    };
    for (const auto& c : cases) {
      CAPTURE(std::string(c.name));
      hparams hp = good;
      c.edit(hp);
      const std::string msg = table_error(hp, deepseek_tensors(per_expert));
      CAPTURE(msg);
      CHECK(msg.find(c.says) != std::string::npos);
    }
    // A missing last expert, and a plain q projection when q_lora_rank is 0 (DeepSeek-V2-Lite).
    hparams lite = good;
    lite.mla.q_lora_rank = 0;
    shape_table t = deepseek_tensors(per_expert);
    CHECK(table_error(lite, t).find("heads x head size") == std::string::npos);  // q_a/q_b not consulted
    t.add("blk.0.attn_q.weight", {32, 40});
    CHECK(table_error(lite, t).find("blk.0.attn_q.weight") != std::string::npos);
  }
  // HF: multi-token-prediction layers past num_hidden_layers are allowed when the config declares them.
  hparams hp = deepseek_hp(hparams_origin::config_json);
  const std::vector<std::string_view> names = {"model.layers.0.mlp.gate.weight", "model.layers.2.eh_proj.weight"};
  CHECK_THROWS_WITH_AS(check_hf_layer_names(hp, names), doctest::Contains("belongs to layer 2"), error);
  hp.n_layer_nextn = 1;
  CHECK_NOTHROW(check_hf_layer_names(hp, names));
}
