/* Reasons on a prompt and prints both channels: the thought on stderr-style brackets, the answer plain.
 *   reason MODEL.gguf ["question"] */
#include <dianoia.h>
#include <stdio.h>
#include <string.h>

static int last = 0;

static bool on_event(const dianoia_event* ev, void* user) {
  (void)user;
  if (ev->type == DIANOIA_EVENT_REASONING || ev->type == DIANOIA_EVENT_CONTENT) {
    if (ev->type != last) printf(ev->type == DIANOIA_EVENT_REASONING ? "[thinking] " : "\n[answer] ");
    last = ev->type;
    fwrite(ev->text, 1, ev->text_len, stdout);
  } else if (ev->type == DIANOIA_EVENT_DONE) {
    printf("\n[done] %u reasoning + %u answer tokens\n", ev->reasoning_tokens, ev->content_tokens);
  }
  return true; /* false would stop the generation */
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [QUESTION]\n", argv[0]);
    return 2;
  }
  dianoia_model* model = NULL;
  dianoia_session* session = NULL;
  if (dianoia_model_load(argv[1], NULL, &model) != DIANOIA_OK ||
      dianoia_session_create(model, NULL, &session) != DIANOIA_OK) {
    fprintf(stderr, "reason: %s\n", dianoia_last_error());
    dianoia_model_free(model);
    return 1;
  }
  dianoia_chat_message msg;
  memset(&msg, 0, sizeof msg);
  msg.role = "user";
  msg.content = argc > 2 ? argv[2] : "What is 17 * 3? Think it through.";
  dianoia_generate_params p = dianoia_generate_default_params();
  p.reasoning = DIANOIA_REASONING_ON; /* open a thought even if the template does not */
  p.max_reasoning_tokens = 16;        /* then close it and answer */
  p.max_tokens = 96;
  p.temperature = 0;
  dianoia_status st = dianoia_session_chat(session, &msg, 1, &p, on_event, NULL);
  if (st != DIANOIA_OK) fprintf(stderr, "reason: %s\n", dianoia_last_error());
  dianoia_session_free(session);
  dianoia_model_free(model);
  return st == DIANOIA_OK ? 0 : 1;
}
