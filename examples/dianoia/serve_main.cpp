// dianoia serve: an OpenAI/DeepSeek-compatible HTTP server on one model (cpp-httplib for HTTP,
// nlohmann::json for bodies; see docs/decisions.md). Requests are checked in full before any work
// (serve_request.cpp), decoded on a pool of sessions (serve_pool.cpp) and written as OpenAI objects or
// server-sent events (serve_generate.cpp).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "catalogue.hpp"
#include "cli.hpp"
#include "serve_generate.hpp"
#include "serve_options.hpp"
#include "serve_pool.hpp"
#include "serve_request.hpp"

namespace cli {

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void serve_help(std::FILE* out) {
  const serve_options o;
  std::fprintf(out,
      "usage: dianoia serve [-m MODEL] [options]\n"
      "An OpenAI/DeepSeek-compatible HTTP server: POST /v1/chat/completions (stream or not; the thinking\n"
      "in reasoning_content), POST /v1/completions, GET /v1/models, GET /health. Per request: max_tokens /\n"
      "max_completion_tokens, temperature, top_p, top_k, min_p, seed, stop, logprobs / top_logprobs,\n"
      "presence/frequency/repetition penalties, logit_bias, n (n > 1: self-consistency samples from one\n"
      "prompt cache, with their majority vote in the extension field \"vote\"), reasoning_effort (none: no\n"
      "thinking; minimal / low / medium: think with a budget of 128 / 512 / 2048 tokens; high: unlimited)\n"
      "and max_reasoning_tokens (the thinking budget; -1 = none). Tool calling as OpenAI's: tools,\n"
      "tool_choice (auto or none), parallel_tool_calls, assistant tool_calls and tool messages in the history;\n"
      "the model's calls (in its template's syntax: Hermes/Qwen, DeepSeek, Llama 3) come back as the message's\n"
      "tool_calls with finish_reason \"tool_calls\". Ctrl-C or SIGTERM stops it.\n"
      "\n"
      "server:\n"
      "  --host ADDR                  address to listen on; other than loopback needs --api-key [default: %s]\n"
      "  --port N                     port; 0 = any free one (printed) [default: %d]\n"
      "  --api-key KEY                require 'Authorization: Bearer KEY' on /v1/* [default: $DIANOIA_API_KEY, else none]\n"
      "  --alias NAME                 the model id clients use [default: the model file's name]\n"
      "  --parallel N                 sessions decoding at once (1..64); more requests wait in turn [default: %u]\n"
      "  --max-queue N                requests waiting beyond this get 503 [default: %u]\n"
      "  --max-body-bytes N           larger request bodies get 413 [default: %zu]\n"
      "  --max-tokens N               most new tokens a request may ask for, and the default [default: %d]\n",
      o.host.c_str(), o.port, o.parallel, o.max_queue, o.limits.max_body_bytes, o.limits.max_tokens);
}

namespace {

using json = nlohmann::json;

void send_error(httplib::Response& res, const api_error& e) {
  res.status = e.status;
  res.set_content(e.to_json(), "application/json");
}

api_error error_of(int status, std::string message, std::string type = "invalid_request_error", std::string param = "",
                   std::string code = "") {
  api_error e;
  e.status = status;
  e.message = std::move(message);
  e.type = std::move(type);
  e.param = std::move(param);
  e.code = std::move(code);
  return e;
}

// Distinct, unpredictable-enough 64-bit values for ids and seeds: a counter through splitmix64, salted
// once per process.
uint64_t next_random() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  uint64_t z = salt + (counter++ + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string random_id(const char* prefix) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%016llx", prefix, static_cast<unsigned long long>(next_random()));
  return buf;
}

bool same_secret(const std::string& a, const std::string& b) {
  // Constant time in the key's content, so a timing probe learns nothing but the length.
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

struct server_state {
  serve_options opt;
  const dianoia::model* model;
  std::string model_id;
  uint32_t context_length = 0;
  uint32_t n_vocab = 0;
  dianoia_generate_params defaults;
  std::unique_ptr<session_pool> pool;
};

// Tokens the prompt will roughly take: picks the session with the longest shared prefix and refuses
// prompts that cannot fit before the 200 goes out.
std::vector<int32_t> estimate_prompt(const server_state& st, const gen_request& r) {
  if (r.kind == endpoint::chat) {
    const bool tools = !r.tools_json.empty() && !r.tool_choice_none;
    const std::string kwargs = tools ? "{\"tools\":" + r.tools_json + "}" : "";
    return st.model->tokenize(st.model->apply_chat_template(r.messages, true, nullptr, kwargs), false, true);
  }
  if (r.prompt_is_tokens) return r.prompt_tokens;
  return st.model->tokenize(r.prompt, true, false);
}

void handle_generate(server_state& st, endpoint kind, const httplib::Request& req, httplib::Response& res) {
  auto parsed = parse_request(kind, req.body, st.opt.limits);
  if (auto* e = std::get_if<api_error>(&parsed)) return send_error(res, *e);
  auto r = std::make_shared<gen_request>(std::move(std::get<gen_request>(parsed)));
  if (!r->model.empty() && r->model != st.model_id)
    return send_error(res, error_of(404, "The model '" + r->model + "' does not exist (this server has '" +
                                             st.model_id + "')", "invalid_request_error", "model", "model_not_found"));
  std::vector<int32_t> prompt;
  try {
    prompt = estimate_prompt(st, *r);
  } catch (const dianoia::error& e) {
    return send_error(res, error_of(400, std::string("cannot build the prompt: ") + e.what(), "invalid_request_error",
                                    kind == endpoint::chat ? "messages" : "prompt"));
  }
  for (int32_t t : r->prompt_tokens)
    if (static_cast<uint32_t>(t) >= st.n_vocab)
      return send_error(res, error_of(400, "token id " + std::to_string(t) + " is outside the vocabulary (" +
                                               std::to_string(st.n_vocab) + ")", "invalid_request_error", "prompt"));
  if (prompt.size() + 1 >= st.context_length)
    return send_error(res, error_of(400, "This model's maximum context length is " + std::to_string(st.context_length) +
                                             " tokens. However, your prompt resulted in " + std::to_string(prompt.size()) +
                                             " tokens.", "invalid_request_error", kind == endpoint::chat ? "messages" : "prompt",
                                    "context_length_exceeded"));
  if (st.pool->waiting() >= st.opt.max_queue + st.pool->size())
    return send_error(res, error_of(503, "The server is busy: too many requests are waiting. Retry later.", "server_error"));

  auto ctx = std::make_shared<gen_context>();
  ctx->model = st.model;
  ctx->model_id = st.model_id;
  ctx->id = random_id(kind == endpoint::chat ? "chatcmpl-" : "cmpl-");
  ctx->created = static_cast<int64_t>(std::time(nullptr));
  ctx->defaults = st.defaults;
  ctx->default_max_tokens = st.opt.limits.max_tokens;
  ctx->seed = next_random();
  ctx->tool_call_prefix = random_id("call_") + "_";
  res.set_header("Cache-Control", "no-cache");
  auto provider = [&st, r, ctx, prompt = std::move(prompt)](size_t, httplib::DataSink& sink) {
    body_writer write = [&sink](std::string_view s) { return sink.is_writable() && sink.write(s.data(), s.size()); };
    auto lease = st.pool->acquire(prompt);
    if (!lease) {
      const api_error e = error_of(503, "The server is busy or stopping: retry later.", "server_error");
      write(r->stream ? "data: " + e.to_json() + "\n\ndata: [DONE]\n\n" : e.to_json());
    } else {
      run_generation(*r, *ctx, lease->session(), write);
    }
    sink.done();
    return true;
  };
  res.set_chunked_content_provider(r->stream ? "text/event-stream" : "application/json", provider);
}

json model_object(const server_state& st) {
  return {{"id", st.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "dianoia"},
          {"context_length", st.context_length}};
}

void add_routes(httplib::Server& svr, server_state& st) {
  svr.Get("/health", [&st](const httplib::Request&, httplib::Response& res) {
    res.set_content(json{{"status", "ok"}, {"model", st.model_id}, {"busy", st.pool->busy()},
                         {"waiting", st.pool->waiting()}}.dump(), "application/json");
  });
  svr.Get("/v1/models", [&st](const httplib::Request&, httplib::Response& res) {
    res.set_content(json{{"object", "list"}, {"data", json::array({model_object(st)})}}.dump(), "application/json");
  });
  svr.Get(R"(/v1/models/(.+))", [&st](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] != st.model_id)
      return send_error(res, error_of(404, "The model '" + std::string(req.matches[1]) + "' does not exist",
                                      "invalid_request_error", "model", "model_not_found"));
    res.set_content(model_object(st).dump(), "application/json");
  });
  svr.Post("/v1/chat/completions", [&st](const httplib::Request& req, httplib::Response& res) {
    handle_generate(st, endpoint::chat, req, res);
  });
  svr.Post("/v1/completions", [&st](const httplib::Request& req, httplib::Response& res) {
    handle_generate(st, endpoint::completion, req, res);
  });
}

void add_guards(httplib::Server& svr, server_state& st) {
  svr.set_pre_routing_handler([&st](const httplib::Request& req, httplib::Response& res) {
    if (st.opt.api_key.empty() || req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0 && same_secret(auth.substr(7), st.opt.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, error_of(401, "Incorrect API key provided (send 'Authorization: Bearer KEY').",
                             "invalid_request_error", "", "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Whatever httplib answers by itself (no route, body too large, bad request line) in OpenAI's shape.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([&st](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string msg = "HTTP " + std::to_string(res.status);
    if (res.status == 404) msg = "Unknown request URL: " + req.method + " " + req.path;
    if (res.status == 413) {
      msg = "The request body is larger than " + std::to_string(st.opt.limits.max_body_bytes) + " bytes.";
      // httplib caps form-encoded bodies (curl -d's default Content-Type) far lower than JSON ones.
      if (req.get_header_value("Content-Type").find("x-www-form-urlencoded") != std::string::npos)
        msg = "The request body is too large for Content-Type application/x-www-form-urlencoded: send it as "
              "application/json.";
    }
    if (res.status == 405) msg = "Method " + req.method + " is not allowed on " + req.path;
    send_error(res, error_of(res.status, msg, res.status >= 500 ? "server_error" : "invalid_request_error"));
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, error_of(500, what, "server_error"));
  });
}

void parse_serve_flags(args& a, serve_options& o) {
  std::string v;
  a.value({"--host"}, o.host);
  if (a.value({"--port"}, v)) o.port = static_cast<int>(to_long(v, "--port", 0, 65535));
  if (!a.value({"--api-key"}, o.api_key))
    if (const char* k = std::getenv("DIANOIA_API_KEY")) o.api_key = k;
  a.value({"--alias"}, o.alias);
  if (a.value({"--parallel"}, v)) o.parallel = static_cast<uint32_t>(to_long(v, "--parallel", 1, 64));
  if (a.value({"--max-queue"}, v)) o.max_queue = static_cast<uint32_t>(to_long(v, "--max-queue", 0, 100000));
  if (a.value({"--max-body-bytes"}, v)) o.limits.max_body_bytes = static_cast<size_t>(to_long(v, "--max-body-bytes", 1024, 1L << 30));
  if (a.value({"--max-tokens"}, v)) o.limits.max_tokens = static_cast<int32_t>(to_long(v, "--max-tokens", 1, 1L << 24));
}

std::string file_stem(const std::string& path) {
  std::string s = path;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (auto slash = s.rfind('/'); slash != std::string::npos) s = s.substr(slash + 1);
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ".gguf") == 0) s.resize(s.size() - 5);
  return s;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  args a(argc, argv, 2);
  serve_options o;
  std::string model_arg, v;
  const bool have_model = a.value({"-m", "--model"}, model_arg);
  parse_serve_flags(a, o);
  dianoia_session_params sp = dianoia_session_default_params();
  dianoia::model::params mp;
  parse_session_flags(a, sp);
  if (a.value({"-c", "--ctx-size"}, v)) mp.context_length = static_cast<uint32_t>(to_long(v, "-c", 0, 1L << 24));
  if (a.value({"--max-memory"}, v)) mp.max_memory_bytes = static_cast<uint64_t>(to_long(v, "--max-memory", 0, 1L << 30)) << 20;
  a.finish();
  if (!is_loopback_host(o.host) && o.api_key.empty())
    throw std::runtime_error("--host " + o.host + " is reachable from other machines: set --api-key KEY (or $DIANOIA_API_KEY)");

  // Signals go to one thread that stops the server; every other thread (httplib's pool) inherits the mask.
  sigset_t stop_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const std::string path = have_model ? resolve_model(model_arg) : default_model_path();
  dianoia::model model = load_model(path, mp);
  server_state st;
  st.opt = o;
  st.model = &model;
  st.model_id = o.alias.empty() ? file_stem(path) : o.alias;
  const auto info = model.info();
  st.context_length = sp.context_length ? sp.context_length : info.context_length;
  st.n_vocab = info.n_vocab;
  st.defaults = dianoia_generate_default_params();
  dianoia_model_apply_generation_defaults(model.get(), &st.defaults);
  st.pool = std::make_unique<session_pool>(model, sp, o.parallel, o.max_queue);

  httplib::Server svr;
  const size_t threads = std::min<size_t>(256, o.parallel + o.max_queue + 4);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(o.limits.max_body_bytes);
  svr.set_read_timeout(30, 0);
  svr.set_write_timeout(60, 0);
  // An idle keep-alive connection holds a worker thread, and shutdown waits for it: 3 s instead of 5.
  // (A proxy's upstream keep-alive must be shorter: docs/deploy.md sets nginx's to 2 s.)
  svr.set_keep_alive_timeout(3);
  add_guards(svr, st);
  add_routes(svr, st);
  const int port = o.port == 0 ? svr.bind_to_any_port(o.host) : (svr.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port));
  std::fprintf(stderr, "dianoia serve: listening on http://%s:%d (model '%s', %u session%s, context %u)\n",
               o.host.c_str(), port, st.model_id.c_str(), o.parallel, o.parallel == 1 ? "" : "s", st.context_length);
  std::fflush(stderr);

  std::atomic<bool> stopping{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_set, &sig);
    stopping = true;
    st.pool->close();
    svr.stop();
  });
  const bool ok = svr.listen_after_bind();
  if (!stopping) pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  std::fprintf(stderr, "dianoia serve: stopped\n");
  return ok || stopping ? 0 : 1;
}

}  // namespace cli
