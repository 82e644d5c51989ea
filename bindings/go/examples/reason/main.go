// Reasons on a prompt and prints both channels.   go run ./examples/reason MODEL.gguf ["question"]
package main

import (
	"context"
	"fmt"
	"os"

	dianoia "github.com/dianoia/dianoia/bindings/go"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "usage: %s MODEL [QUESTION]\n", os.Args[0])
		os.Exit(2)
	}
	question := "What is 17 * 3? Think it through."
	if len(os.Args) > 2 {
		question = os.Args[2]
	}
	model, err := dianoia.Load(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "reason:", err)
		os.Exit(1)
	}
	defer model.Close()
	session, err := model.NewSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reason:", err)
		os.Exit(1)
	}
	defer session.Close()
	opt := dianoia.DefaultGenerateOptions()
	opt.Reasoning = dianoia.ReasoningOn
	opt.MaxReasoningTokens = 16
	opt.MaxTokens = 96
	opt.Temperature = 0
	last := int32(0)
	done, err := session.Chat(context.Background(), []dianoia.Message{{Role: "user", Content: question}}, opt,
		func(e dianoia.Event) bool {
			if e.Type == dianoia.EventReasoning || e.Type == dianoia.EventContent {
				if e.Type != last {
					if e.Type == dianoia.EventReasoning {
						fmt.Print("[thinking] ")
					} else {
						fmt.Print("\n[answer] ")
					}
					last = e.Type
				}
				fmt.Print(e.Text)
			}
			return true
		})
	if err != nil {
		fmt.Fprintln(os.Stderr, "reason:", err)
		os.Exit(1)
	}
	fmt.Printf("\n[done] %d reasoning + %d answer tokens\n", done.ReasoningTokens, done.ContentTokens)
}
