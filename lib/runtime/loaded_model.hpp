// A model ready to serve: the mapped weights, the network over them, the tokenizer and the chat template.
// Immutable after load, so any number of sessions on any threads may share it. Two sources:
//   - GGUF: one file or llama.cpp's splits (path of the first, NAME-00001-of-0000N.gguf);
//   - a Hugging Face model directory: config.json, tokenizer.json (+ tokenizer_config.json,
//     chat_template.jinja, generation_config.json), model.safetensors or the shards that
//     model.safetensors.index.json names. Weights are mapped in place where their layout allows
//     (see lib/safetensors/tensor_set.hpp for what is repacked).
// A vocab-only load may also come from a tokenizer.json (a file, or a directory holding one): then there
// is no weight file, the architecture is "" (or config.json's) and the template comes from
// tokenizer_config.json.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "gguf/gguf.hpp"
#include "gguf/split.hpp"
#include "model/hparams_hf.hpp"
#include "model/model.hpp"
#include "runtime/memory_budget.hpp"
#include "safetensors/tensor_set.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail {

struct load_options {
  uint32_t context_length = 0;              // 0: the file's training context
  std::function<bool(float)> progress;      // return false to abort: error(cancelled)
  bool vocab_only = false;                  // tokenizer and template only: net() is unavailable
  // Refuse a model whose weights (mapped + repacked) exceed this many bytes; 0: the machine's
  // MemAvailable. Checked before the repacked buffers are allocated. error(out_of_memory).
  uint64_t max_memory_bytes = 0;
  // false: weights read into memory the model owns instead of mapped (llama.cpp's --no-mmap), so the
  // model no longer depends on its files; see mapped_file.hpp for what a mapping does when they change.
  bool use_mmap = true;
};

class loaded_model {
 public:
  // path: a GGUF file (or first split), or a Hugging Face model directory; with vocab_only also a
  // tokenizer.json or a directory holding one.
  static std::unique_ptr<loaded_model> load(const std::string& path, const load_options& opt);

  // The GGUF file (first split) with the metadata; nullptr for a Hugging Face directory or tokenizer.json.
  const gguf::file* file() const { return gguf_ ? &gguf_->first() : nullptr; }
  // The weights by canonical name; nullptr for a tokenizer.json-only load.
  const tensor_source* weights() const { return weights_; }
  // "gguf", "safetensors" or "tokenizer.json".
  const std::string& format() const { return format_; }
  // Bytes of every file holding weights (all splits / shards).
  uint64_t file_bytes() const { return file_bytes_; }
  // Mapped and repacked weight bytes (kv_bytes is 0: sessions add theirs).
  const memory_estimate& memory() const { return memory_; }
  uint64_t max_memory_bytes() const { return max_memory_; }
  size_t n_repacked() const { return st_ ? st_->n_repacked() : 0; }
  // Tensor types and counts, most frequent first: "Q4_1 x 211, F32 x 61"; repacked ones marked.
  const std::string& tensor_type_summary() const { return tensor_types_; }
  // "spm" or "bpe (<pre-tokenizer>)".
  const std::string& tokenizer_kind() const { return tokenizer_kind_; }
  // Sampling defaults from generation_config.json (all unset for GGUF and for directories without one).
  const generation_defaults& generation() const { return generation_; }
  bool has_net() const { return net_ != nullptr; }
  const model& net() const;  // error(invalid_argument) for a vocab-only load
  const tokenizer& tok() const { return *tok_; }
  const hparams& hp() const { return hp_; }
  const std::string& chat_template() const { return chat_template_; }  // "" if the model has none
  const std::string& name() const { return name_; }
  uint32_t n_ctx() const { return n_ctx_; }

 private:
  void load_hf_tokenizer(const std::string& json_path);
  void load_gguf(const std::string& path, const load_options& opt, const std::function<void(float)>& step);
  void load_hf_dir(const std::string& dir, const load_options& opt, const std::function<void(float)>& step);

  std::unique_ptr<gguf::split_set> gguf_;
  std::unique_ptr<safetensors::tensor_set> st_;
  const tensor_source* weights_ = nullptr;
  std::string format_;
  uint64_t file_bytes_ = 0;
  memory_estimate memory_;
  uint64_t max_memory_ = 0;  // the cap given at load (0: the machine's available memory)
  generation_defaults generation_;
  std::string tensor_types_, tokenizer_kind_;  // for info, computed once at load
  std::unique_ptr<tokenizer> tok_;
  std::unique_ptr<model> net_;
  hparams hp_;
  std::string chat_template_;
  std::string name_;
  uint32_t n_ctx_ = 0;
};

}  // namespace dianoia::detail
