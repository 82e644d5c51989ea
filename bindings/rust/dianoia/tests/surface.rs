//! The rest of the C ABI through the safe crate: version and system info, the log callback, generation
//! defaults, completion from ids, session and conversation files, tool results and replies, samples
//! with a vote and a host extractor.
use dianoia::{Event, GenerateOptions, LogLevel, Message, Model, SessionOptions, StopReason};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn data() -> PathBuf {
    std::env::var("DIANOIA_TEST_DATA_DIR").map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data"))
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
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("dianoia-rust-{}-{name}", std::process::id()))
}
fn content(text: &mut String) -> impl FnMut(&Event) -> bool + '_ {
    move |e| {
        if let Event::Content { text: t, .. } = e { text.push_str(t); }
        true
    }
}

#[test]
fn version_info_logging_and_generation_defaults() {
    let path = match stories() { Some(p) => p, None => { eprintln!("stories260K missing: skipped"); return; } };
    let (major, minor, patch) = dianoia::version_info();
    assert_eq!(format!("{major}.{minor}.{patch}"), dianoia::version());
    assert!(dianoia::system_info().contains("cpu:"));

    let lines = Arc::new(Mutex::new(Vec::<(LogLevel, String)>::new()));
    let sink = lines.clone();
    dianoia::set_logger(LogLevel::Info, move |level, text| sink.lock().unwrap().push((level, text.to_owned()))).unwrap();
    let model = Model::load(&path).unwrap();
    dianoia::reset_logger(LogLevel::Warn).unwrap();
    let got = lines.lock().unwrap().clone();
    assert!(got.iter().any(|(l, t)| *l == LogLevel::Info && t.contains("stories260K.gguf")), "{got:?}");
    let n = got.len();
    drop(Model::load(&path).unwrap()); // after the reset: nothing reaches the closure
    assert_eq!(lines.lock().unwrap().len(), n);

    // A GGUF ships no generation_config.json: the options stay as they were.
    let mut opts = GenerateOptions { temperature: 0.3, top_k: 7, ..Default::default() };
    model.apply_generation_defaults(&mut opts).unwrap();
    assert_eq!((opts.temperature, opts.top_k), (0.3, 7));
}

#[test]
fn completion_from_ids_and_session_files() {
    let path = match stories() { Some(p) => p, None => { eprintln!("stories260K missing: skipped"); return; } };
    let model = Model::load(&path).unwrap();
    let opts = SessionOptions { context_length: 128, ..Default::default() };
    let s = model.session(&opts).unwrap();
    let mut from_text = String::new();
    s.complete("Once upon a time", &greedy(16), content(&mut from_text)).unwrap();
    let ids = model.tokenize("Once upon a time", true, false).unwrap();
    let s2 = model.session(&opts).unwrap();
    let mut from_ids = String::new();
    let done = s2.complete_tokens(&ids, &greedy(16), content(&mut from_ids)).unwrap();
    assert_eq!(done.stop_reason, StopReason::MaxTokens);
    assert_eq!(from_ids, from_text);

    let file = temp("session");
    s.save(&file).unwrap();
    let s3 = model.session(&opts).unwrap();
    s3.load(&file).unwrap();
    assert_eq!(s3.tokens().unwrap(), s.tokens().unwrap());
    std::fs::write(&file, b"not a session").unwrap();
    let err = s3.load(&file).unwrap_err();
    assert_eq!(err.status_name(), "DIANOIA_ERR_FORMAT");
    assert!(!err.message.is_empty());
    std::fs::remove_file(&file).ok();
}

#[test]
fn tool_results_replies_and_conversation_files() {
    let path = match smol() { Some(p) => p, None => { eprintln!("SmolLM2 missing: skipped"); return; } };
    let model = Model::load(path).unwrap();
    let s = model.session(&SessionOptions::default()).unwrap();
    let file = temp("conversation");
    let saved = {
        let mut c = s.conversation().unwrap();
        c.send("What is the weather in Paris?", &greedy(6), |_| true).unwrap();
        c.add_tool_result("18 C", Some("call_0"), Some("get_weather")).unwrap();
        let mut reply = String::new();
        let done = c.reply(&greedy(6), content(&mut reply)).unwrap();
        assert!(done.content_tokens > 0);
        let msgs = c.messages().unwrap();
        assert_eq!(msgs.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["user", "assistant", "tool", "assistant"]);
        assert_eq!(msgs[2].3, r#"{"tool_call_id":"call_0","name":"get_weather"}"#);
        assert_eq!(msgs[3].1, reply);
        c.save(&file).unwrap();
        msgs
    };
    let s2 = model.session(&SessionOptions::default()).unwrap();
    let mut c2 = s2.conversation().unwrap();
    c2.load(&file).unwrap();
    assert_eq!(c2.messages().unwrap(), saved);
    std::fs::remove_file(&file).ok();
    let mut empty = s.conversation().unwrap();
    assert_eq!(empty.reply(&greedy(4), |_| true).unwrap_err().status_name(), "DIANOIA_ERR_INVALID_ARGUMENT");
}

#[test]
fn samples_with_a_host_extractor_and_the_vote() {
    let path = match smol() { Some(p) => p, None => { eprintln!("SmolLM2 missing: skipped"); return; } };
    let model = Model::load(path).unwrap();
    let s = model.session(&SessionOptions::default()).unwrap();
    let opts = GenerateOptions { temperature: 0.7, max_tokens: 16, ..Default::default() };
    let mut seen = Vec::new();
    let mut first_char = |c: &str| c.trim().chars().next().map(String::from);
    let mut dones = Vec::new();
    let mut vote_event = None;
    let vote = s.chat_samples(&[Message::user("What is 3+4? Answer with a number.")], 3, &opts,
        Some(&mut first_char), |e| {
            match e {
                Event::Done(d) => dones.push(d.sample),
                Event::Vote(v) => vote_event = Some(v.clone()),
                Event::Content { sample, .. } => seen.push(*sample),
                _ => {}
            }
            true
        }).unwrap();
    assert_eq!(dones, [0, 1, 2]);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "samples one after another");
    let total: u32 = vote.entries.iter().map(|e| e.count).sum();
    assert_eq!(total + vote.abstained, 3);
    assert!(vote.entries.iter().all(|e| e.answer.chars().count() == 1));
    assert_eq!(vote_event.unwrap().entries, vote.entries);
}

#[test]
fn grammar_constrains_the_answer() {
    let path = match stories() { Some(p) => p, None => { eprintln!("stories260K missing: skipped"); return; } };
    if !dianoia::has_grammar_engine() { eprintln!("no grammar engine in this build: skipped"); return; }
    let model = Model::load(&path).unwrap();
    let session = model.session(&SessionOptions::default()).unwrap();
    let opts = GenerateOptions {
        temperature: 1.0,
        seed: 3,
        reasoning: dianoia::Reasoning::Off,
        grammar: Some(dianoia::Grammar::Regex("(yes|no), [a-z]{1,8}\\.".into())),
        ..greedy(64)
    };
    let mut text = String::new();
    session.complete("Once upon a time", &opts, content(&mut text)).unwrap();
    let (word, rest) = text.split_once(", ").expect(&text);
    assert!(word == "yes" || word == "no", "{text}");
    assert!(rest.ends_with('.') && rest.len() <= 9, "{text}");
    // A grammar the engine refuses: the library's message as the error.
    let bad = GenerateOptions { grammar: Some(dianoia::Grammar::JsonSchema("{\"type\": 12}".into())), ..greedy(8) };
    let err = session.complete("Once", &bad, |_| true).unwrap_err();
    assert!(!err.to_string().is_empty());
}
