// Multi-turn conversations (template rendering, thoughts kept apart, KV reuse) and session files.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/conversation.hpp"
#include "runtime/scripted_model.hpp"
#include "runtime/session_file.hpp"

using namespace dianoia::detail;
using namespace dianoia::detail::testing;

namespace {

// R1-like: earlier assistant turns show only their answer; the generation prompt opens the thought.
const std::string k_template =
    "{% for m in messages %}[{{ m.role }}]{{ m.content }}\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant]<think>\n{% endif %}";

// Thinks "hm", closes, answers with the number of '[user]' turns seen, then ends.
void reply_model(context_model& m, const test_vocab& v) {
  m.next = [&v](const std::vector<int32_t>& ctx, float* l) {
    std::string text;
    for (int32_t t : ctx) text += v.tok->token_bytes(t, true);
    const size_t gen = text.rfind("[assistant]<think>\n");
    const std::string out = gen == std::string::npos ? "" : text.substr(gen + 19);
    int users = 0;
    for (size_t at = 0; (at = text.find("[user]", at)) != std::string::npos; ++at) ++users;
    const std::string want = "hm</think>" + std::to_string(users);
    if (out.size() < 2) {
      l["hm"[out.size()]] = 10;
    } else if (out.size() == 2) {
      l[v.end_think] = 10;
    } else if (out.size() < want.size()) {
      l[static_cast<unsigned char>(want[out.size()])] = 10;
    } else {
      l[v.eos] = 10;
    }
  };
}

generate_options greedy() {
  generate_options o;
  o.sampling.temperature = 0;
  return o;
}

std::string tmp_path(const char* name) { return std::string("/tmp/dianoia_test_") + name + ".session"; }

}  // namespace

TEST_CASE("conversation: turns are appended, thoughts kept apart, the cache reused") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  reply_model(m, v);
  session s(m, *v.tok, 1024, 1);
  conversation c(s, *v.tok, k_template);
  CHECK(c.profile().template_opens_thought);
  c.add({"system", "be brief"});
  std::string shown;
  auto sink = [&](channel ch, std::string_view t) {
    shown += (ch == channel::reasoning ? "R:" : "C:") + std::string(t) + ";";
    return true;
  };
  auto st1 = c.send("one", greedy(), sink);
  CHECK(shown == "R:h;R:m;C:1;");
  REQUIRE(c.messages().size() == 3);
  CHECK(c.messages()[2].content == "1");
  CHECK(c.messages()[2].reasoning_content == "hm");
  CHECK(st1.prompt_reused == 0);
  const size_t first_prompt = st1.prompt_tokens;

  shown.clear();
  m.evaluated = 0;
  auto st2 = c.send("two", greedy(), sink);
  CHECK(shown == "R:h;R:m;C:2;");
  // The template drops the thought from the earlier turn, so the cache is kept up to the end of the
  // first prompt minus "<think>" (one token) and "\n", where the renderings part, not rebuilt from zero.
  CHECK(st2.prompt_reused == first_prompt - 2);
  CHECK(m.evaluated < st2.prompt_tokens);
  CHECK(c.messages().size() == 5);
}

TEST_CASE("conversation: a failed turn leaves the messages as they were") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  reply_model(m, v);
  session s(m, *v.tok, 40, 1);  // too small for a second turn
  conversation c(s, *v.tok, k_template);
  auto sink = [](channel, std::string_view) { return true; };
  c.send("one", greedy(), sink);
  REQUIRE(c.messages().size() == 2);
  CHECK_THROWS_AS(c.send("a much longer second question", greedy(), sink), error);
  CHECK(c.messages().size() == 2);
  CHECK_THROWS_AS(c.send("\xC3", greedy(), sink), error);
  CHECK_THROWS_AS(conversation(s, *v.tok, ""), error);
}

TEST_CASE("conversation: messages survive a JSON round trip") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  session s(m, *v.tok, 64, 1);
  conversation c(s, *v.tok, k_template);
  c.add({"user", "quote \" backslash \\ newline \n tab \t ctrl \x01 é"});
  c.add({"assistant", "ok", std::string("thought")});
  conversation d(s, *v.tok, k_template);
  d.restore_messages(c.messages_json());
  REQUIRE(d.messages().size() == 2);
  CHECK(d.messages()[0].content == c.messages()[0].content);
  CHECK(d.messages()[1].reasoning_content == "thought");
  CHECK_FALSE(d.messages()[0].reasoning_content);
  CHECK_THROWS_AS(d.restore_messages("[{\"role\":1}]"), error);
}

TEST_CASE("session files: save, load into a new session, continue identically") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  // Next token: a deterministic function of the whole context, so any lost state shows.
  m.next = [&](const std::vector<int32_t>& ctx, float* l) {
    uint32_t h = 7;
    for (int32_t t : ctx) h = h * 31 + static_cast<uint32_t>(t);
    l['a' + h % 26] = 10;
  };
  const std::string path = tmp_path("roundtrip");
  auto prompt = v.bytes("state test: ");
  generate_options opt = greedy();
  opt.max_tokens = 10;
  std::string first, cont_a, cont_b;
  auto into = [](std::string& out) {
    return [&out](channel, std::string_view t) {
      out += t;
      return true;
    };
  };
  session a(m, *v.tok, 256, 1);
  a.generate(prompt, opt, into(first));
  save_session(a, *v.tok, path, "payload bytes");
  // Continue in the original session...
  auto next = a.tokens();
  const auto more = v.bytes(" more");
  next.insert(next.end(), more.begin(), more.end());
  a.generate(next, opt, into(cont_a));
  // ... and in a fresh one restored from the file: same text, and only the new tokens evaluated.
  session b(m, *v.tok, 256, 1);
  CHECK(load_session(b, *v.tok, path) == "payload bytes");
  CHECK(b.tokens().size() == prompt.size() + 10);
  const uint32_t cached = b.n_cached();
  CHECK(cached == prompt.size() + 9);  // the last sampled token was never evaluated
  auto st = b.generate(next, opt, into(cont_b));
  CHECK(cont_b == cont_a);
  CHECK(st.prompt_reused == cached);
  std::remove(path.c_str());
}

TEST_CASE("session files: corrupt, truncated, foreign and mismatched files are errors") {
  test_vocab v;
  context_model m(v.tok->n_vocab());
  m.next = [&](const std::vector<int32_t>&, float* l) { l['a'] = 10; };
  const std::string path = tmp_path("bad");
  session a(m, *v.tok, 256, 1);
  auto prompt = v.bytes("hello");
  generate_options opt = greedy();
  opt.max_tokens = 4;
  a.generate(prompt, opt, [](channel, std::string_view) { return true; });
  save_session(a, *v.tok, path);
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  auto write = [&](const std::string& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
  };
  session b(m, *v.tok, 256, 1);
  SUBCASE("a flipped bit") {
    std::string c = bytes;
    c[40] ^= 4;
    write(c);
    CHECK_THROWS_WITH_AS(load_session(b, *v.tok, path), doctest::Contains("checksum"), error);
  }
  SUBCASE("every truncation") {
    for (size_t n = 0; n < bytes.size(); n += 3) {
      write(bytes.substr(0, n));
      CHECK_THROWS_AS(load_session(b, *v.tok, path), error);
    }
  }
  SUBCASE("not a session file") {
    write("GGUF and other things");
    CHECK_THROWS_WITH_AS(load_session(b, *v.tok, path), doctest::Contains("not a dianoia session file"), error);
  }
  SUBCASE("another model") {
    write(bytes);
    context_model other(v.tok->n_vocab() + 1);
    other.next = m.next;
    session c(other, *v.tok, 256, 1);
    CHECK_THROWS_WITH_AS(load_session(c, *v.tok, path), doctest::Contains("different model"), error);
  }
  SUBCASE("a context too small") {
    write(bytes);
    session c(m, *v.tok, 4, 1);
    CHECK_THROWS_WITH_AS(load_session(c, *v.tok, path), doctest::Contains("more than this session's context"), error);
  }
  SUBCASE("a missing file") {
    CHECK_THROWS_AS(load_session(b, *v.tok, "/nonexistent/x.session"), error);
  }
  CHECK(b.tokens().empty());  // nothing half-restored
  std::remove(path.c_str());
}
