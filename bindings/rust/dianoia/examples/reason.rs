//! Reasons on a prompt and prints both channels.   cargo run --example reason -- MODEL.gguf ["question"]
use dianoia::{Event, GenerateOptions, Message, Model, Reasoning, SessionOptions};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: {} MODEL [QUESTION]", args[0]);
        std::process::exit(2);
    }
    let question = args.get(2).map_or("What is 17 * 3? Think it through.", |s| s.as_str());
    let run = || -> dianoia::Result<dianoia::Done> {
        let model = Model::load(&args[1])?;
        let session = model.session(&SessionOptions::default())?;
        let opts = GenerateOptions {
            reasoning: Reasoning::On,
            max_reasoning_tokens: 16,
            max_tokens: 96,
            temperature: 0.0,
            ..Default::default()
        };
        let mut last = 0;
        session.chat(&[Message::user(question)], &opts, |e| {
            let (kind, text, label) = match e {
                Event::Reasoning { text, .. } => (1, *text, "[thinking] "),
                Event::Content { text, .. } => (2, *text, "\n[answer] "),
                _ => return true,
            };
            if kind != last {
                print!("{label}");
                last = kind;
            }
            print!("{text}");
            std::io::stdout().flush().ok();
            true
        })
    };
    match run() {
        Ok(done) => println!("\n[done] {} reasoning + {} answer tokens", done.reasoning_tokens, done.content_tokens),
        Err(e) => {
            eprintln!("reason: {e}");
            std::process::exit(1);
        }
    }
}
