// The generation flags shared by `run` and `chat`: sampling, reasoning control, stops, logprobs.
#pragma once
#include <string>
#include <vector>

#include <dianoia.h>

#include "cli.hpp"

namespace cli {

// Owns the strings the C parameter struct points at.
struct gen_options {
  dianoia_generate_params p = dianoia_generate_default_params();
  bool reasoning_given = false;
  bool temp_given = false, top_p_given = false, top_k_given = false, min_p_given = false;

  // The model's generation_config.json defaults, for the sampling flags the user did not give.
  void apply_model_defaults(const dianoia_model* m);

  // Reads every generation flag present in `a` (removing it).
  void parse(args& a);
  // Points p's string and array fields at the storage below (call after copying or parsing).
  void bind();

  std::string wrap_up, continue_text, open_tag, close_tag, order, tools;
  std::string grammar;  // --json-schema / --grammar-file contents, or --regex
  bool online = false;  // --conf-mode online: with --vote confidence
  std::vector<std::string> stops, breakers;
  std::vector<const char*> stop_ptrs, breaker_ptrs;
  std::vector<dianoia_logit_bias> bias;
};

const char* stop_name(dianoia_stop_reason r);

}  // namespace cli
