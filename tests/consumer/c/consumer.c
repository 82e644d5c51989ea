/* A C99 program that uses an installed dianoia through its public header only.
 *
 *   consumer <path/to/stories260K.gguf>
 *
 * Loads stories260K (context forced to 512: the GGUF file says 128), generates 32 tokens greedily from
 * BOS and compares them with the first 32 ids of llama2.c's greedy reference
 * (shared/data/models/stories260K/reference_outputs.json, "greedy_from_bos"), hard-coded below as an
 * independent reference. Also checks a few error paths. Prints PASS and exits 0 on success. */
#include <dianoia.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_REF 32
#define N_VOCAB 512

/* reference_outputs.json: greedy_from_bos.generated_ids[0:32] (prompt: BOS = 1). */
static const int32_t kReference[N_REF] = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315,
                                          421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408,
                                          419, 292, 411, 322, 265, 282, 295, 433, 426, 385};
/* Those ids decoded with tok512 (llama2.c decode; leading space of the first piece dropped). */
static const char kReferenceText[] =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One";

static int g_failures = 0;

#define CHECK(cond)                                                                                   \
  do {                                                                                                \
    if (!(cond)) {                                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: \"%s\")\n", __FILE__, __LINE__, #cond,  \
              dianoia_last_error());                                                                  \
      ++g_failures;                                                                                   \
    }                                                                                                 \
  } while (0)

#define CHECK_STATUS(expr, want)                                                                      \
  do {                                                                                                \
    dianoia_status st_ = (expr);                                                                      \
    if (st_ != (want)) {                                                                              \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: \"%s\")\n", __FILE__, __LINE__, \
              #expr, dianoia_status_string(st_), dianoia_status_string(want), dianoia_last_error());  \
      ++g_failures;                                                                                   \
    }                                                                                                 \
  } while (0)

typedef struct collected {
  char text[4096];
  size_t len;
  int n_done;
  int n_reasoning_events;
  dianoia_event done;
} collected;

static bool on_event(const dianoia_event* ev, void* user_data) {
  collected* c = (collected*)user_data;
  switch (ev->type) {
    case DIANOIA_EVENT_CONTENT:
      if (c->len + ev->text_len < sizeof c->text) {
        memcpy(c->text + c->len, ev->text, ev->text_len);
        c->len += ev->text_len;
        c->text[c->len] = '\0';
      }
      break;
    case DIANOIA_EVENT_REASONING:
      ++c->n_reasoning_events;
      break;
    case DIANOIA_EVENT_DONE:
      ++c->n_done;
      c->done = *ev;
      break;
    default: /* later versions add event types: ignore what is not needed */
      break;
  }
  return true;
}

static const char* skip_spaces(const char* s) {
  while (*s == ' ') ++s;
  return s;
}

static void check_error_paths(void) {
  dianoia_model* model = (dianoia_model*)1; /* must be overwritten with NULL */
  dianoia_model_info info;
  dianoia_session* session = NULL;
  const char* err;

  /* Null handles and pointers. */
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_STATUS(dianoia_model_get_info(NULL, &info), DIANOIA_ERR_INVALID_ARGUMENT);
  err = dianoia_last_error();
  CHECK(err != NULL && err[0] != '\0');
  CHECK_STATUS(dianoia_session_create(NULL, NULL, &session), DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK(session == NULL);
  CHECK_STATUS(dianoia_session_complete_tokens(NULL, kReference, 1, NULL, NULL, NULL),
               DIANOIA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(dianoia_model_load(NULL, NULL, &model), DIANOIA_ERR_INVALID_ARGUMENT);
  dianoia_model_free(NULL);
  dianoia_session_free(NULL);
  dianoia_session_cancel(NULL);

  /* A file that does not exist. */
  model = (dianoia_model*)1;
  CHECK_STATUS(dianoia_model_load("/nonexistent/dianoia-consumer/no-such-model.gguf", NULL, &model),
               DIANOIA_ERR_IO);
  CHECK(model == NULL);
  err = dianoia_last_error();
  CHECK(err != NULL && err[0] != '\0');
  printf("error path ok: %s: %s\n", dianoia_status_string(DIANOIA_ERR_IO), err ? err : "(null)");

  CHECK(strcmp(dianoia_status_string(DIANOIA_OK), "DIANOIA_OK") == 0);
}

static void check_generation(const char* path) {
  dianoia_model_params mp = dianoia_model_default_params();
  dianoia_model* model = NULL;
  dianoia_model_info info;
  dianoia_session* session = NULL;
  dianoia_generate_params gp;
  collected out;
  int32_t bos = 1;
  int32_t prompt[N_REF];
  float* logits;
  size_t i;

  CHECK(mp.struct_size == sizeof mp);
  mp.context_length = 512; /* the converted GGUF says 128; the model was trained with 512 */
  CHECK_STATUS(dianoia_model_load(path, &mp, &model), DIANOIA_OK);
  if (model == NULL) {
    fprintf(stderr, "cannot load %s: %s\n", path, dianoia_last_error());
    ++g_failures;
    return;
  }

  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_STATUS(dianoia_model_get_info(model, &info), DIANOIA_OK);
  CHECK(info.n_vocab == N_VOCAB);
  CHECK(info.n_layers == 5);
  CHECK(info.n_embd == 64);
  CHECK(info.context_length == 512);
  CHECK(info.bos_token == 1);
  CHECK(info.architecture != NULL && strcmp(info.architecture, "llama") == 0);

  CHECK_STATUS(dianoia_session_create(model, NULL, &session), DIANOIA_OK);
  if (session == NULL) {
    dianoia_model_free(model);
    ++g_failures;
    return;
  }

  /* 1. Greedy generation from BOS: the streamed text must be that of the reference ids. */
  gp = dianoia_generate_default_params();
  CHECK(gp.struct_size == sizeof gp);
  gp.max_tokens = N_REF;
  gp.temperature = 0.0f;
  gp.reasoning = DIANOIA_REASONING_OFF;
  memset(&out, 0, sizeof out);
  CHECK_STATUS(dianoia_session_complete_tokens(session, &bos, 1, &gp, on_event, &out), DIANOIA_OK);
  CHECK(out.n_done == 1);
  CHECK(out.n_reasoning_events == 0);
  CHECK(out.done.stop_reason == DIANOIA_STOP_MAX_TOKENS);
  CHECK(out.done.content_tokens + out.done.reasoning_tokens == N_REF);
  CHECK(out.done.prompt_tokens == 1);
  if (strcmp(skip_spaces(out.text), kReferenceText) != 0) {
    fprintf(stderr, "generated text differs from the reference:\n  got:  \"%s\"\n  want: \"%s\"\n", out.text,
            kReferenceText);
    ++g_failures;
  }

  /* The library's own detokenization of the reference ids gives the same text. */
  {
    char text[1024];
    size_t n = 0;
    CHECK_STATUS(dianoia_detokenize(model, kReference, N_REF, true, text, sizeof text - 1, &n), DIANOIA_OK);
    if (n < sizeof text) {
      text[n] = '\0';
      if (strcmp(skip_spaces(text), kReferenceText) != 0) {
        fprintf(stderr, "detokenize(reference) = \"%s\"\n", text);
        ++g_failures;
      }
    }
  }

  /* 2. The ids themselves: the argmax of the logits at each position of BOS + reference[0..30] is the
   * next reference id (greedy decoding, checked id by id). */
  prompt[0] = bos;
  for (i = 1; i < N_REF; ++i) prompt[i] = kReference[i - 1];
  logits = (float*)malloc(sizeof(float) * N_REF * N_VOCAB);
  CHECK(logits != NULL);
  if (logits != NULL) {
    size_t need = 0;
    /* Size query first: nothing is evaluated, the needed count comes back. */
    CHECK_STATUS(dianoia_session_eval_logits(session, prompt, N_REF, N_REF, NULL, 0, &need), DIANOIA_ERR_BUFFER_TOO_SMALL);
    CHECK(need == (size_t)N_REF * N_VOCAB);
    dianoia_status st = dianoia_session_eval_logits(session, prompt, N_REF, N_REF, logits, (size_t)N_REF * N_VOCAB, &need);
    CHECK_STATUS(st, DIANOIA_OK);
    if (st == DIANOIA_OK) {
      int mismatches = 0;
      for (i = 0; i < N_REF; ++i) {
        const float* row = logits + i * N_VOCAB;
        int32_t best = 0;
        int32_t v;
        for (v = 1; v < N_VOCAB; ++v)
          if (row[v] > row[best]) best = v;
        if (best != kReference[i]) {
          if (mismatches++ < 5)
            fprintf(stderr, "position %u: greedy id %d, reference %d\n", (unsigned)i, best, kReference[i]);
        }
      }
      if (mismatches) {
        fprintf(stderr, "%d of %d greedy ids differ from the reference\n", mismatches, N_REF);
        ++g_failures;
      }
    }
    free(logits);
  }

  dianoia_session_free(session);
  dianoia_model_free(model);
  printf("generated: \"%s\"\n", out.text);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s path/to/stories260K.gguf\n", argv[0]);
    return 2;
  }
  printf("dianoia %s (header %d.%d.%d)\n", dianoia_version_string(), DIANOIA_VERSION_MAJOR, DIANOIA_VERSION_MINOR,
         DIANOIA_VERSION_PATCH);
  CHECK(dianoia_version() ==
        (uint32_t)(DIANOIA_VERSION_MAJOR * 10000 + DIANOIA_VERSION_MINOR * 100 + DIANOIA_VERSION_PATCH));

  check_error_paths();
  check_generation(argv[1]);

  if (g_failures) {
    printf("FAIL (%d checks)\n", g_failures);
    return 1;
  }
  printf("PASS\n");
  return 0;
}
