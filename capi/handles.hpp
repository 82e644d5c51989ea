// What the opaque C handles hold.
#pragma once
#include <memory>
#include <string>

#include "runtime/loaded_model.hpp"
#include "runtime/session.hpp"

struct dianoia_model {
  std::unique_ptr<dianoia::detail::loaded_model> m;
};

struct dianoia_session {
  dianoia_model* model;
  std::unique_ptr<dianoia::detail::session> s;
};
