package dianoia

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The rest of the C ABI: version numbers, the log callback, generation defaults, the streaming
// detokenizer, completion from ids, session and conversation files, tool results and replies, samples
// with a vote and a host extractor.

func content(text *strings.Builder) func(Event) bool {
	return func(e Event) bool {
		if e.Type == EventContent {
			text.WriteString(e.Text)
		}
		return true
	}
}

func TestVersionLoggingAndGenerationDefaults(t *testing.T) {
	path := stories(t)
	major, minor, patch := VersionInfo()
	if got := fmt.Sprintf("%d.%d.%d", major, minor, patch); got != Version() {
		t.Fatalf("VersionInfo %s, Version %s", got, Version())
	}
	var mu sync.Mutex
	var lines []string
	if err := SetLogger(LogInfo, func(level LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if level == LogInfo {
			lines = append(lines, msg)
		}
	}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err := SetLogger(LogWarn, nil); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mu.Lock()
	n := len(lines)
	found := n > 0 && strings.Contains(strings.Join(lines, "\n"), "stories260K.gguf")
	mu.Unlock()
	if !found {
		t.Fatalf("no load message in %q", lines)
	}
	m2, _ := Load(path) // after the reset: nothing reaches the function
	m2.Close()
	if mu.Lock(); len(lines) != n {
		t.Fatalf("logged after the reset: %q", lines[n:])
	}
	mu.Unlock()
	if err := SetLogger(LogLevel(17), nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("level 17: %v", err)
	}

	o := DefaultGenerateOptions()
	o.Temperature, o.TopK = 0.3, 7
	if err := m.ApplyGenerationDefaults(&o); err != nil || o.Temperature != 0.3 || o.TopK != 7 {
		t.Fatalf("a GGUF has no generation defaults: err %v, %+v", err, o)
	}
}

func TestDetokenizerCompletionFromIDsAndSessionFiles(t *testing.T) {
	m, err := Load(stories(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ids, _ := m.Tokenize("Héllo wörld", false, false)
	d, err := m.NewDetokenizer(false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var streamed strings.Builder
	for _, id := range ids {
		piece, err := d.Push(id)
		if err != nil {
			t.Fatal(err)
		}
		streamed.WriteString(piece)
	}
	rest, _ := d.Flush()
	streamed.WriteString(rest)
	if whole, _ := m.Detokenize(ids, false); streamed.String() != whole {
		t.Fatalf("streamed %q, whole %q", streamed.String(), whole)
	}
	if _, err := d.Push(1 << 30); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown id: %v", err)
	}

	opts := SessionOptions{ContextLength: 128}
	s, _ := m.NewSession(opts)
	defer s.Close()
	var fromText, fromIDs strings.Builder
	if _, err := s.Complete(context.Background(), "Once upon a time", greedy(16), content(&fromText)); err != nil {
		t.Fatal(err)
	}
	prompt, _ := m.Tokenize("Once upon a time", true, false)
	s2, _ := m.NewSession(opts)
	defer s2.Close()
	done, err := s2.CompleteTokens(context.Background(), prompt, greedy(16), content(&fromIDs))
	if err != nil || done.StopReason != StopMaxTokens || fromIDs.String() != fromText.String() {
		t.Fatalf("err %v, done %+v: %q vs %q", err, done, fromIDs.String(), fromText.String())
	}

	file := filepath.Join(t.TempDir(), "session.bin")
	if err := s.Save(file); err != nil {
		t.Fatal(err)
	}
	s3, _ := m.NewSession(opts)
	defer s3.Close()
	if err := s3.Load(file); err != nil {
		t.Fatal(err)
	}
	want, _ := s.Tokens()
	if got, _ := s3.Tokens(); len(got) != len(want) || len(got) == 0 || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("loaded tokens %v, saved %v", got, want)
	}
	os.WriteFile(file, []byte("not a session"), 0o644)
	if err := s3.Load(file); !errors.Is(err, ErrFormat) {
		t.Fatalf("a corrupt file: %v", err)
	}
}

func TestToolResultsRepliesAndConversationFiles(t *testing.T) {
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
	ctx := context.Background()
	if _, err := c.Send(ctx, "What is the weather in Paris?", greedy(6), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.AddToolResult("18 C", "call_0", "get_weather"); err != nil {
		t.Fatal(err)
	}
	var reply strings.Builder
	if done, err := c.Reply(ctx, greedy(6), content(&reply)); err != nil || done.ContentTokens == 0 {
		t.Fatalf("err %v, done %+v", err, done)
	}
	msgs, _ := c.Messages()
	if len(msgs) != 4 || msgs[2].Role != "tool" || string(msgs[2].Extra) != `{"tool_call_id":"call_0","name":"get_weather"}` ||
		msgs[3].Role != "assistant" || msgs[3].Content != reply.String() {
		t.Fatalf("messages %+v", msgs)
	}
	file := filepath.Join(t.TempDir(), "conversation.bin")
	if err := c.Save(file); err != nil {
		t.Fatal(err)
	}
	s2, _ := m.NewSession()
	defer s2.Close()
	c2, _ := s2.NewConversation()
	defer c2.Close()
	if err := c2.Load(file); err != nil {
		t.Fatal(err)
	}
	if got, _ := c2.Messages(); len(got) != 4 || got[3].Content != reply.String() {
		t.Fatalf("loaded %+v", got)
	}
	empty, _ := s.NewConversation()
	defer empty.Close()
	if _, err := empty.Reply(ctx, greedy(4), nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("reply without messages: %v", err)
	}
}

func TestSamplesWithAHostExtractorAndTheVote(t *testing.T) {
	m, err := Load(smol(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	o := DefaultGenerateOptions()
	o.Temperature, o.MaxTokens = 0.7, 16
	var dones []uint32
	var voteEvents int
	firstChar := func(c string) (string, bool) {
		c = strings.TrimSpace(c)
		if c == "" {
			return "", false
		}
		return string([]rune(c)[:1]), true
	}
	vote, err := s.ChatSamples(context.Background(), []Message{{Role: "user", Content: "What is 3+4? Answer with a number."}},
		3, o, firstChar, func(e Event) bool {
			if e.Done != nil {
				dones = append(dones, e.Sample)
			}
			if e.Type == EventVote {
				voteEvents++
			}
			return true
		})
	if err != nil || len(dones) != 3 || dones[0] != 0 || dones[2] != 2 || voteEvents != 1 {
		t.Fatalf("err %v, dones %v, %d votes", err, dones, voteEvents)
	}
	total := vote.Abstained
	for _, e := range vote.Entries {
		total += e.Count
		if len([]rune(e.Answer)) != 1 {
			t.Fatalf("answer %q is not the extractor's", e.Answer)
		}
	}
	if total != 3 {
		t.Fatalf("vote %+v", vote)
	}
}

func TestGrammarConstrainsTheAnswer(t *testing.T) {
	if !HasGrammarEngine() {
		t.Skip("no grammar engine in this build")
	}
	m, err := Load(stories(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(SessionOptions{ContextLength: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := greedy(64)
	o.Temperature, o.Seed, o.Reasoning = 1, 3, ReasoningOff
	o.GrammarKind, o.Grammar = GrammarRegex, `(yes|no), [a-z]{1,8}\.`
	var text strings.Builder
	if _, err := s.Complete(context.Background(), "Once upon a time", o, func(e Event) bool {
		if e.Type == EventContent {
			text.WriteString(e.Text)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	got := text.String()
	word, rest, ok := strings.Cut(got, ", ")
	if !ok || (word != "yes" && word != "no") || !strings.HasSuffix(rest, ".") {
		t.Fatalf("answer %q does not follow the regex", got)
	}
	bad := greedy(8)
	bad.GrammarKind, bad.Grammar = GrammarJSONSchema, `{"type": 12}`
	if _, err := s.Complete(context.Background(), "Once", bad, func(Event) bool { return true }); err == nil {
		t.Fatal("a schema the engine refuses was accepted")
	}
}
