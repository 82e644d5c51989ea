//! The Rust binding on real models: reference generation, reasoning budget, errors, cancellation from
//! another thread, a template with tools.
use dianoia::{Event, GenerateOptions, Message, Model, Reasoning, SessionOptions, StopReason, ToolCall};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}
fn data() -> PathBuf {
    std::env::var("DIANOIA_TEST_DATA_DIR").map(PathBuf::from).unwrap_or_else(|_| repo().join("../shared/data"))
}
fn stories() -> Option<PathBuf> {
    let p = data().join("models/stories260K/stories260K.gguf");
    p.exists().then_some(p)
}
fn smol() -> Option<PathBuf> {
    let home = std::env::var("DIANOIA_HOME").map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/dianoia"));
    let p = home.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    p.exists().then_some(p)
}
fn greedy(n: i32) -> GenerateOptions {
    GenerateOptions { temperature: 0.0, max_tokens: n, ..Default::default() }
}

// The ids after `"generated_ids": [` in the Once-upon-a-time reference (no JSON crate needed).
fn reference_ids(key: &str) -> Vec<i32> {
    let text = std::fs::read_to_string(data().join("models/stories260K/reference_outputs.json")).unwrap();
    let at = text.find("greedy_once_upon_a_time").unwrap();
    let rest = &text[at..];
    let start = rest.find(&format!("\"{key}\"")).unwrap();
    let open = start + rest[start..].find('[').unwrap();
    let close = open + rest[open..].find(']').unwrap();
    rest[open + 1..close].split(',').map(|s| s.trim().parse().unwrap()).collect()
}

#[test]
fn generation_matches_the_reference() {
    let path = match stories() { Some(p) => p, None => { eprintln!("stories260K missing: skipped"); return; } };
    assert!(dianoia::version().starts_with("1."));
    let model = Model::load(&path).unwrap();
    assert_eq!(model.info().unwrap().n_vocab, 512);
    let s = model.session(&SessionOptions { context_length: 128, ..Default::default() }).unwrap();
    let mut text = String::new();
    let done = s.complete("Once upon a time", &greedy(32), |e| {
        if let Event::Content { text: t, .. } = e { text.push_str(t); }
        true
    }).unwrap();
    assert_eq!(done.stop_reason, StopReason::MaxTokens);
    let mut want = reference_ids("prompt_ids");
    let generated = reference_ids("generated_ids");
    want.extend_from_slice(&generated[..32]);
    assert_eq!(s.tokens().unwrap(), want);
    assert_eq!(model.detokenize(&generated[..32], false).unwrap(), text);
}

#[test]
fn reasoning_channels_and_budget() {
    let path = match smol() { Some(p) => p, None => { eprintln!("SmolLM2 missing: skipped"); return; } };
    let model = Model::load(path).unwrap();
    let s = model.session(&SessionOptions::default()).unwrap();
    let opts = GenerateOptions { reasoning: Reasoning::On, max_reasoning_tokens: 12, ..greedy(40) };
    let (mut reasoning, mut content) = (String::new(), String::new());
    let done = s.chat(&[Message::user("What is 2+2? Think first.")], &opts, |e| {
        match e {
            Event::Reasoning { text, .. } => reasoning.push_str(text),
            Event::Content { text, .. } => content.push_str(text),
            _ => {}
        }
        true
    }).unwrap();
    assert!(done.reasoning_tokens > 0 && done.reasoning_tokens <= 12, "{done:?}");
    assert!(!reasoning.trim().is_empty() && done.content_tokens > 0 && !content.contains("<think>"));
}

#[test]
fn bad_files_give_the_library_message() {
    let err = Model::load("/nonexistent/model.gguf").err().unwrap();
    assert_eq!(err.status_name(), "DIANOIA_ERR_IO");
    assert!(err.message.contains("/nonexistent/model.gguf"), "{err}");
    let path = match stories() { Some(p) => p, None => return };
    let bad = std::env::temp_dir().join(format!("dianoia-rust-bad-{}.gguf", std::process::id()));
    std::fs::write(&bad, &std::fs::read(path).unwrap()[..5000]).unwrap();
    let err = Model::load(&bad).err().unwrap();
    std::fs::remove_file(&bad).ok();
    assert_eq!(err.status, 3);
    assert!(err.message.contains("truncated"), "{err}");
}

#[test]
fn cancel_from_another_thread() {
    let path = match smol() { Some(p) => p, None => { eprintln!("SmolLM2 missing: skipped"); return; } };
    let model = Model::load(path).unwrap();
    let s = model.session(&SessionOptions::default()).unwrap();
    let canceller = s.canceller();
    let mut n = 0;
    let opts = GenerateOptions { ignore_eos: true, ..greedy(400) };
    let done = std::thread::scope(|scope| {
        s.complete("Once upon a time", &opts, |e| {
            if let Event::Content { .. } = e {
                n += 1;
                if n == 3 {
                    scope.spawn(move || canceller.cancel()).join().unwrap();
                }
            }
            true
        })
    }).unwrap();
    assert_eq!(done.stop_reason, StopReason::Cancelled);
    assert!(done.content_tokens < 400);
}

#[test]
fn template_with_tools() {
    let tmpl = "{% for t in tools %}{{ t.function.name }};{% endfor %}{{ enable_thinking }}|\
                {% for m in messages %}{{ m.role }}:{{ m.tool_calls | tojson if m.tool_calls else m.content }}|{% endfor %}";
    let call = ToolCall { id: Some("c1".into()), name: "get_weather".into(), arguments: Some(r#"{"city": "Paris"}"#.into()) };
    let msgs = [
        Message::user("weather?"),
        Message { role: "assistant".into(), content: None, tool_calls: vec![call], ..Default::default() },
        Message { tool_call_id: Some("c1".into()), ..Message::new("tool", "18 C") },
    ];
    let vars = r#"{"tools": [{"type": "function", "function": {"name": "get_weather"}}], "enable_thinking": false}"#;
    let out = dianoia::apply_chat_template(&msgs, tmpl, true, Some(vars)).unwrap();
    assert_eq!(out, "get_weather;False|user:weather?|assistant:[{\"id\": \"c1\", \"type\": \"function\", \"function\": \
                     {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}}]|tool:18 C|");
    let err = dianoia::apply_chat_template(&msgs, "{% if %}", true, None).err().unwrap();
    assert_eq!(err.status_name(), "DIANOIA_ERR_FORMAT");
}

#[test]
fn conversation_logits_and_detokenizer() {
    let path = match smol() { Some(p) => p, None => { eprintln!("SmolLM2 missing: skipped"); return; } };
    let model = Model::load(path).unwrap();
    let s = model.session(&SessionOptions::default()).unwrap();
    {
        let mut c = s.conversation().unwrap();
        c.add(&Message::system("Be brief.")).unwrap();
        c.send("Name a color.", &greedy(8), |_| true).unwrap();
        let done = c.send("Another.", &greedy(8), |_| true).unwrap();
        assert!(done.prompt_reused > 0);
        c.add(&Message { tool_call_id: Some("c1".into()), ..Message::new("tool", "18 C") }).unwrap();
        let msgs = c.messages().unwrap();
        assert_eq!(msgs.len(), 6);
        assert_eq!(msgs[5].3, r#"{"tool_call_id":"c1"}"#);
    }
    let vocab = model.info().unwrap().n_vocab as usize;
    assert_eq!(s.eval_logits(&[1, 2, 3], 2).unwrap().len(), 2 * vocab);
    let ids = model.tokenize("Héllo wörld", false, false).unwrap();
    let mut d = model.detokenizer(false).unwrap();
    let mut text = String::new();
    for &t in &ids {
        text += &d.push(t).unwrap();
    }
    text += &d.flush().unwrap();
    assert_eq!(text, model.detokenize(&ids, false).unwrap());
}
