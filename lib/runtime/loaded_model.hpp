// A model ready to serve: the mapped GGUF file, the network over its tensors, the tokenizer and the
// chat template. Immutable after load, so any number of sessions on any threads may share it. A vocab-only
// load may also come from a Hugging Face tokenizer.json (a file, or a directory holding one): then there
// is no GGUF file, the architecture is "" and the template comes from tokenizer_config.json.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "gguf/gguf.hpp"
#include "model/model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::detail {

struct load_options {
  uint32_t context_length = 0;              // 0: the file's training context
  std::function<bool(float)> progress;      // return false to abort: error(cancelled)
  bool vocab_only = false;                  // tokenizer and template only: net() is unavailable
};

class loaded_model {
 public:
  // path: a GGUF file; with vocab_only also a tokenizer.json or a directory holding one. A directory
  // without vocab_only is error(unsupported) (safetensors weights are not read yet).
  static std::unique_ptr<loaded_model> load(const std::string& path, const load_options& opt);

  const gguf::file* file() const { return file_.get(); }  // nullptr when loaded from a tokenizer.json
  bool has_net() const { return net_ != nullptr; }
  const model& net() const;  // error(invalid_argument) for a vocab-only load
  const tokenizer& tok() const { return *tok_; }
  const hparams& hp() const { return hp_; }
  const std::string& chat_template() const { return chat_template_; }  // "" if the model has none
  const std::string& name() const { return name_; }
  uint32_t n_ctx() const { return n_ctx_; }

 private:
  void load_hf_tokenizer(const std::string& json_path);

  std::unique_ptr<gguf::file> file_;
  std::unique_ptr<tokenizer> tok_;
  std::unique_ptr<model> net_;
  hparams hp_;
  std::string chat_template_;
  std::string name_;
  uint32_t n_ctx_ = 0;
};

}  // namespace dianoia::detail
