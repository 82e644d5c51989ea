// What the opaque C handles hold.
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "runtime/conversation.hpp"
#include "runtime/loaded_model.hpp"
#include "runtime/reasoning_profile.hpp"
#include "runtime/session.hpp"

struct dianoia_model {
  std::unique_ptr<dianoia::detail::loaded_model> m;

  // The model family's reasoning profile, worked out on first use (the model is shared across threads).
  const dianoia::detail::reasoning_profile& reasoning() const {
    std::call_once(profile_once_, [&] {
      const auto& tok = m->tok();
      const std::string bos = tok.bos() >= 0 ? std::string(tok.token_text(tok.bos())) : std::string();
      const std::string eos = tok.eos() >= 0 ? std::string(tok.token_text(tok.eos())) : std::string();
      profile_ = dianoia::detail::detect_reasoning_profile(m->chat_template(), tok, bos, eos);
    });
    return profile_;
  }

 private:
  mutable std::once_flag profile_once_;
  mutable dianoia::detail::reasoning_profile profile_;
};

struct dianoia_session {
  dianoia_model* model;
  std::unique_ptr<dianoia::detail::session> s;
};

struct dianoia_conversation {
  dianoia_session* session;
  std::unique_ptr<dianoia::detail::conversation> c;
};
