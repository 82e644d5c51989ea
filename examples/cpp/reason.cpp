// Reasons on a prompt and prints both channels, with the C++ header.
//   reason_cpp MODEL.gguf ["question"]
#include <dianoia/dianoia.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " MODEL [QUESTION]\n";
    return 2;
  }
  dianoia::model model(argv[1]);
  dianoia::session session(model);
  auto p = dianoia_generate_default_params();
  p.reasoning = DIANOIA_REASONING_ON;
  p.max_reasoning_tokens = 16;
  p.max_tokens = 96;
  p.temperature = 0;
  int last = 0;
  const auto done = session.chat({{"user", argc > 2 ? argv[2] : "What is 17 * 3? Think it through."}},
                                 [&](const dianoia::event& e) {
                                   if (e.type == DIANOIA_EVENT_REASONING || e.type == DIANOIA_EVENT_CONTENT) {
                                     if (e.type != last)
                                       std::cout << (e.type == DIANOIA_EVENT_REASONING ? "[thinking] " : "\n[answer] ");
                                     last = e.type;
                                     std::cout << e.text << std::flush;
                                   }
                                   return true;
                                 },
                                 p);
  std::cout << "\n[done] " << done.reasoning_tokens << " reasoning + " << done.content_tokens << " answer tokens\n";
  return 0;
} catch (const dianoia::error& e) {
  std::cerr << "reason: " << e.what() << "\n";
  return 1;
}
