// `dianoia serve` settings: where it listens, who may call it, and the limits every request is held to.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace cli {

struct serve_limits {
  size_t max_body_bytes = 1 << 20;  // larger bodies: 413
  int32_t max_tokens = 4096;        // a request asking for more new tokens: 400; also the default
  uint32_t max_n = 16;              // choices per request (n)
  uint32_t max_stops = 16;
  size_t max_messages = 1024;
};

struct serve_options {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (printed on stderr)
  std::string api_key;  // "" : no authentication (allowed on loopback only)
  std::string alias;    // model id clients name; "": the model file's stem
  uint32_t parallel = 1;   // sessions decoding at once; further requests wait in turn
  uint32_t max_queue = 64;  // requests waiting beyond this get 503
  serve_limits limits;
};

// The serve-specific part of `dianoia serve --help`.
void serve_help(std::FILE* out);

bool is_loopback_host(const std::string& host);

}  // namespace cli
