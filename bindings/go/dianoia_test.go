package dianoia

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func repoDir() string { wd, _ := os.Getwd(); return filepath.Join(wd, "..", "..") }

func dataDir() string {
	if d := os.Getenv("DIANOIA_TEST_DATA_DIR"); d != "" {
		return d
	}
	return filepath.Join(repoDir(), "..", "shared", "data")
}

func need(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is missing", path)
	}
	return path
}

func stories(t *testing.T) string {
	return need(t, filepath.Join(dataDir(), "models", "stories260K", "stories260K.gguf"))
}

func smol(t *testing.T) string {
	home := os.Getenv("DIANOIA_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "dianoia")
	}
	return need(t, filepath.Join(home, "SmolLM2-135M-Instruct.Q4_1.gguf"))
}

func greedy(n int32) GenerateOptions {
	o := DefaultGenerateOptions()
	o.Temperature = 0
	o.MaxTokens = n
	return o
}

func TestGenerationMatchesTheReference(t *testing.T) {
	var ref struct {
		Once struct {
			Prompt    string  `json:"prompt"`
			PromptIDs []int32 `json:"prompt_ids"`
			Generated []int32 `json:"generated_ids"`
		} `json:"greedy_once_upon_a_time"`
	}
	raw, err := os.ReadFile(filepath.Join(dataDir(), "models", "stories260K", "reference_outputs.json"))
	if err != nil {
		t.Skip(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	m, err := Load(stories(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v := Version(); !strings.HasPrefix(v, "1.") {
		t.Fatalf("version %s", v)
	}
	s, err := m.NewSession(SessionOptions{ContextLength: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var text strings.Builder
	done, err := s.Complete(context.Background(), ref.Once.Prompt, greedy(32), func(e Event) bool {
		if e.Type == EventContent {
			text.WriteString(e.Text)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if done.StopReason != StopMaxTokens || done.ContentTokens != 32 {
		t.Fatalf("done %+v", done)
	}
	toks, _ := s.Tokens()
	want := append(append([]int32{}, ref.Once.PromptIDs...), ref.Once.Generated[:32]...)
	if len(toks) != len(want) {
		t.Fatalf("tokens %v, want %v", toks, want)
	}
	for i := range want {
		if toks[i] != want[i] {
			t.Fatalf("token %d: %d, want %d", i, toks[i], want[i])
		}
	}
	if detok, _ := m.Detokenize(ref.Once.Generated[:32], false); detok != text.String() {
		t.Fatalf("text %q, detokenized %q", text.String(), detok)
	}
}

func TestReasoningChannelsAndBudget(t *testing.T) {
	m, err := Load(smol(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	o := greedy(40)
	o.Reasoning = ReasoningOn
	o.MaxReasoningTokens = 12
	var reasoning, content strings.Builder
	done, err := s.Chat(context.Background(), []Message{{Role: "user", Content: "What is 2+2? Think first."}}, o,
		func(e Event) bool {
			switch e.Type {
			case EventReasoning:
				reasoning.WriteString(e.Text)
			case EventContent:
				content.WriteString(e.Text)
			}
			return true
		})
	if err != nil {
		t.Fatal(err)
	}
	if done.ReasoningTokens == 0 || done.ReasoningTokens > 12 || strings.TrimSpace(reasoning.String()) == "" {
		t.Fatalf("reasoning %q, done %+v", reasoning.String(), done)
	}
	if done.ContentTokens == 0 || strings.Contains(content.String(), "<think>") {
		t.Fatalf("content %q", content.String())
	}
}

func TestBadFileIsTheLibrarysError(t *testing.T) {
	_, err := Load("/nonexistent/model.gguf")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrIO) || !strings.Contains(e.Message, "/nonexistent/model.gguf") {
		t.Fatalf("err = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	good, _ := os.ReadFile(stories(t))
	os.WriteFile(bad, good[:5000], 0o600)
	if _, err = Load(bad); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v", err)
	}
}

func TestContextCancelsFromAnotherGoroutine(t *testing.T) {
	m, err := Load(smol(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	o := greedy(400)
	o.IgnoreEOS = true
	n := 0
	done, err := s.Complete(ctx, "Once upon a time", o, func(e Event) bool {
		if e.Type == EventContent {
			if n++; n == 3 {
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { cancel(); wg.Done() }()
				wg.Wait()
			}
		}
		return true
	})
	if !errors.Is(err, context.Canceled) || done.StopReason != StopCancelled || done.ContentTokens >= 400 {
		t.Fatalf("err %v, done %+v", err, done)
	}
	// Session.Cancel from another goroutine, and the session works afterwards.
	if _, err := s.Complete(context.Background(), "Hello", greedy(4), nil); err != nil {
		t.Fatal(err)
	}
}

func TestTemplateWithTools(t *testing.T) {
	var fx struct {
		Templates     map[string]struct{ Path, Key, Source string } `json:"templates"`
		ToolSets      map[string]json.RawMessage                    `json:"tool_sets"`
		Conversations map[string]struct {
			Messages []json.RawMessage `json:"messages"`
			Tools    string            `json:"tools"`
		} `json:"conversations"`
		Cases []struct {
			Template, Conversation, Expected, Bos, Eos string
			AddGenerationPrompt                        bool  `json:"add_generation_prompt"`
			EnableThinking                             *bool `json:"enable_thinking"`
			Error                                      string
		} `json:"cases"`
	}
	raw, err := os.ReadFile(filepath.Join(repoDir(), "tests", "fixtures", "chat_templates.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	cfgRaw, err := os.ReadFile(filepath.Join(dataDir(), "tokenizers", "qwen3", "tokenizer_config.json"))
	if err != nil {
		t.Skip(err)
	}
	json.Unmarshal(cfgRaw, &cfg)
	tmpl := cfg["chat_template"].(string)
	checked := 0
	for _, c := range fx.Cases {
		conv := fx.Conversations[c.Conversation]
		if c.Template != "qwen3" || conv.Tools == "" || c.Error != "" {
			continue
		}
		var msgs []Message
		for _, raw := range conv.Messages {
			msgs = append(msgs, messageFromJSON(t, raw))
		}
		vars := map[string]any{"tools": fx.ToolSets[conv.Tools], "bos_token": "", "eos_token": "<|im_end|>"}
		if c.EnableThinking != nil {
			vars["enable_thinking"] = *c.EnableThinking
		}
		var nilModel *Model
		got, err := nilModel.ApplyChatTemplate(msgs, tmpl, c.AddGenerationPrompt, vars)
		if err != nil {
			t.Fatalf("%s: %v", c.Conversation, err)
		}
		if got != c.Expected {
			t.Fatalf("%s (thinking %v):\n%q\nwant\n%q", c.Conversation, c.EnableThinking, got, c.Expected)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d cases", checked)
	}
}

// messageFromJSON keeps the order of the message's keys (the template prints them as given).
func messageFromJSON(t *testing.T, raw json.RawMessage) Message {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var msg Message
	var extra bytes.Buffer
	for dec.More() {
		k, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		var str *string
		json.Unmarshal(v, &str)
		switch key := k.(string); {
		case key == "role":
			msg.Role = *str
		case key == "content" && string(v) == "null":
			msg.NoContent = true
		case key == "content" && str != nil:
			msg.Content = *str
		case key == "reasoning_content" && str != nil:
			msg.ReasoningContent = *str
		default:
			if extra.Len() > 0 {
				extra.WriteByte(',')
			}
			kb, _ := json.Marshal(key)
			extra.Write(kb)
			extra.WriteByte(':')
			extra.Write(v)
		}
	}
	if extra.Len() > 0 {
		msg.Extra = json.RawMessage("{" + extra.String() + "}")
	}
	return msg
}

func TestConversationAndLogits(t *testing.T) {
	m, err := Load(smol(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	c, err := s.NewConversation()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Add(Message{Role: "system", Content: "Be brief."}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), "Name a color.", greedy(8), nil); err != nil {
		t.Fatal(err)
	}
	done, err := c.Send(context.Background(), "Another.", greedy(8), nil)
	if err != nil || done.PromptReused == 0 {
		t.Fatalf("err %v, done %+v", err, done)
	}
	c.Add(Message{Role: "tool", Content: "18 C", ToolCallID: "c1"})
	msgs, err := c.Messages()
	if err != nil || len(msgs) != 6 || msgs[2].Role != "assistant" || string(msgs[5].Extra) != `{"tool_call_id":"c1"}` {
		t.Fatalf("err %v, messages %+v", err, msgs)
	}
	logits, err := s.EvalLogits([]int32{1, 2, 3}, 2)
	info, _ := m.Info()
	if err != nil || len(logits) != 2*int(info.NVocab) {
		t.Fatalf("err %v, %d logits", err, len(logits))
	}
}
