//! The snippet dialect, one line per case: snippet in, variables out.
//!
//! `"!error"` expects a runtime error containing the text, `"!compile"` a
//! compile error, `"!trace"` a TRACE line; `"<unset>"` means the variable
//! does not exist. Every case runs both as written and, where a typed form
//! exists, through it (the two must agree).

use indexmap::IndexMap;
use prospero::Value;
use prospero::script::Pos;
use prospero::snippet::VarSlot;
use prospero::snippet::{CompiledSnippet, EvalEnv, Limits, SnippetVars};

#[derive(Default)]
struct Vars {
    local: IndexMap<String, (String, Value)>,
    global: IndexMap<String, (String, Value)>,
}

impl SnippetVars for Vars {
    fn get(&self, slot: &VarSlot) -> Option<&Value> {
        let map = if slot.global { &self.global } else { &self.local };
        map.get(&slot.key).map(|(_, v)| v)
    }
    fn set(&mut self, slot: &VarSlot, value: Value) {
        let map = if slot.global { &mut self.global } else { &mut self.local };
        map.entry(slot.key.clone()).or_insert_with(|| (slot.name.clone(), Value::Null)).1 = value;
    }
    fn all(&self) -> Vec<(String, Value)> {
        self.local.values().map(|(n, v)| (n.clone(), v.clone())).collect()
    }
    fn set_named(&mut self, name: &str, value: Value) {
        self.local.insert(name.to_lowercase(), (name.to_string(), value));
    }
}

fn env() -> EvalEnv {
    EvalEnv { now: "2026-11-21T10:00:00Z".parse().expect("time"), ..EvalEnv::default() }
}

/// Run one case; returns a description of what went wrong, if anything.
fn check(src: &str, expected: &[(&str, &str)]) -> Option<String> {
    let compiled = match CompiledSnippet::compile(src, Pos::new(1, 1), &[]) {
        Ok(c) => c,
        Err(e) => {
            return match expected.iter().find(|(k, _)| *k == "!compile") {
                Some((_, want)) if e.message.contains(want) => None,
                _ => Some(format!("compile error: {e}")),
            };
        }
    };
    if let Some((_, want)) = expected.iter().find(|(k, _)| *k == "!compile") {
        return Some(format!("expected a compile error containing {want:?}"));
    }
    let mut vars = Vars::default();
    let run = compiled.run(&mut vars, &mut env(), &Limits::default());
    match (run.error, expected.iter().find(|(k, _)| *k == "!error")) {
        (Some(e), Some((_, want))) if e.message.contains(want) => {}
        (Some(e), Some((_, want))) => return Some(format!("error {e:?} does not contain {want:?}")),
        (Some(e), None) => return Some(format!("unexpected error: {e}")),
        (None, Some((_, want))) => return Some(format!("expected an error containing {want:?}")),
        (None, None) => {}
    }
    for (name, want) in expected {
        match *name {
            "!error" | "!compile" => {}
            "!trace" => {
                if !run.traces.iter().any(|t| t == want) {
                    return Some(format!("no trace line {want:?} in {:?}", run.traces));
                }
            }
            _ => {
                let (map, key) = match name.strip_prefix("global:") {
                    Some(k) => (&vars.global, k.to_lowercase()),
                    None => (&vars.local, name.to_lowercase()),
                };
                let got = map.get(&key).map(|(_, v)| v.to_text().to_string()).unwrap_or_else(|| "<unset>".into());
                if got != *want {
                    return Some(format!("{name} = {got:?}, expected {want:?}"));
                }
            }
        }
    }
    None
}

macro_rules! cases {
    ($($src:expr => [$($k:expr => $v:expr),* $(,)?]),* $(,)?) => {
        vec![$(($src, vec![$(($k, $v)),*])),*]
    };
}

#[test]
fn snippet_cases() {
    let cases: Vec<(&str, Vec<(&str, &str)>)> = cases![
        // The product's documented examples.
        "x = 123 + 456 + nextNum" => ["x" => "579"],
        "nextNum = \"abc\"; x = 123 + 456 + nextNum" => ["x" => "579"],
        "nextNum = 789; x = 123 + 456 + nextNum" => ["x" => "1368"],
        "FOR i = 1 TO 9 { ph = \"{ph}{i}\" }" => ["ph" => "123456789"],
        "FOR i = 9 TO 1 { ph = \"{ph}{i}\" }" => ["ph" => "987654321"],
        "FOR i = 5 TO 5 { n = n + 1 }" => ["n" => "1"],
        "FOR i = 5 TO 5 { s = \"{s}{i}\" }" => ["s" => "5"],
        "ASSIGN v = 1 + 1" => ["v" => "2"],
        "ASSIGN v = \"1+1\"" => ["v" => "1+1"],
        "var2 = 50; ASSIGN v = var2 > 42" => ["v" => "True"],
        "var2 = 50; ASSIGN v = \"var2 > 42\"" => ["v" => "var2 > 42"],
        "Name = \"Freya\"; IF Name = \"Odin\" | Name = \"Freya\" { ok = 1 }" => ["ok" => "1"],
        "d = #\"02/09/2023\"" => ["d" => "2023-02-09 00:00:00"],
        // Operators.
        "x = 7 \\ 2" => ["x" => "3"],
        "x = -7 \\ 2" => ["x" => "-3"],
        "x = 7 % 4" => ["x" => "3"],
        "x = 2 ^ 3 ^ 2" => ["x" => "64"],
        "x = -2 ^ 2" => ["x" => "4"],
        "x = 6 ~ 3" => ["x" => "5"],
        "x = (1 = 1) ~ (1 = 2)" => ["x" => "True"],
        "x = 10 / 4" => ["x" => "2.5"],
        "x = 0.1 + 0.2" => ["x" => "0.3"],
        "x = 1 / 3" => ["x" => "0.333333333333333"],
        "x = 1 = 1" => ["x" => "True"],
        "x = 1 == 1" => ["x" => "True"],
        "x = 1 != 2" => ["x" => "True"],
        "x = 1 <> 1" => ["x" => "False"],
        "x = \"10\" > \"9\"" => ["x" => "True"],
        "x = \"b\" > \"a10\"" => ["x" => "True"],
        "x = \"abc\" = \"ABC\"" => ["x" => "False"],
        "x = 2 <= 2; y = 3 >= 4" => ["x" => "True", "y" => "False"],
        "x = 3 < 2; y = 3 > 2" => ["x" => "False", "y" => "True"],
        "x = 1 = 1 & 2 = 3" => ["x" => "False"],
        "x = 1 = 1 | 2 = 3" => ["x" => "True"],
        "x = !(1 = 2)" => ["x" => "True"],
        "x = 1 + 2 * 3" => ["x" => "7"],
        "x = (1 + 2) * 3" => ["x" => "9"],
        "x = 10 - 2 - 3" => ["x" => "5"],
        "x = missing * 5" => ["x" => "5"],
        "x = 5 - missing" => ["x" => "5"],
        "x = missing - 5" => ["x" => "-5"],
        "x = \"abc\" + \"def\"" => ["x" => "0"],
        "x = \"3\" * \"4\"" => ["x" => "12"],
        "x = \" 7 \" + 1" => ["x" => "8"],
        "x = 1 && 0" => ["x" => "False"],
        "x = 0 || 2" => ["x" => "True"],
        "x = true & false" => ["x" => "False"],
        "x = \"yes\" & \"no\"" => ["x" => "False"],
        "x = !\"\"" => ["x" => "True"],
        "x = -(3)" => ["x" => "-3"],
        "x = --3" => ["x" => "3"],
        "x = 2.5e2" => ["x" => "250"],
        "x = 1 = \"1.0\"" => ["x" => "True"],
        "t = 1 = 1; x = t = \"true\"" => ["x" => "True"],
        // Strings.
        "name = \"Ada\"; s = \"Hi {name}!\"" => ["s" => "Hi Ada!"],
        "s = 'single {1+1}'" => ["s" => "single 2"],
        "s = $\"tab\\there\"" => ["s" => "tab\there"],
        "s = $\"line\\nbreak\"" => ["s" => "line\nbreak"],
        "s = $\"quote \\\" and brace \\{x}\"" => ["s" => "quote \" and brace {x}"],
        "s = \"no {brace\"" => ["s" => "no {brace"],
        "s = '{\"json\": 1}'" => ["s" => "{\"json\": 1}"],
        "s = \"{missing}|\"" => ["s" => "|"],
        "o.a = 1; s = \"{o}\"" => ["s" => "{\"a\":\"1\"}"],
        "s = \"{1 = 1}\"" => ["s" => "True"],
        "s = \"{upper('x')}{len(\"abc\")}\"" => ["s" => "X3"],
        "a = 2; b = 3; s = \"{a} + {b} = {a + b}\"" => ["s" => "2 + 3 = 5"],
        "s = \"\"" => ["s" => ""],
        // Variables.
        "Total = 1; total = total + 1" => ["Total" => "2"],
        "ASSIGN x = 1; ASSIGN X = x + 1" => ["x" => "2"],
        "_err = \"e\"; y = __err" => ["y" => "e"],
        "global:g = 5" => ["global:g" => "5", "g" => "<unset>"],
        "global:g = 5; x = global:g + 1" => ["x" => "6"],
        "global:count += 2" => ["global:count" => "2"],
        "x = y" => ["x" => "<unset>"],
        "y = \"\"; x = y" => ["x" => ""],
        "x$ = \"dollar\"" => ["x$" => "dollar"],
        // Arrays and pipe-delimited text.
        "s = \"a|b|c\"; x = s[2]" => ["x" => "b"],
        "s = \"a|b|c\"; s[2] = \"X\"" => ["s" => "a|X|c"],
        "s = \"a|b\"; s[4] = \"d\"" => ["s" => "a|b||d"],
        "s = \"a|b|c\"; n = s.size" => ["n" => "3"],
        "s = \"a|b|c\"; n = count(s)" => ["n" => "3"],
        "s = \"x\"; y = s[1]" => ["y" => "x"],
        "s = \"a|b|c\"; y = s[5]" => ["y" => "<unset>"],
        "s = \"a|b|c\"; i = 3; y = s[i]" => ["y" => "c"],
        "a = append(\"x|y\", \"z\")" => ["a" => "x|y|z"],
        "a = append(\"\", \"z\")" => ["a" => "z"],
        "x = contains(\"a|b\", \"b\")" => ["x" => "True"],
        // Dynamic objects.
        "DYNAMIC o; o.list[2].name = \"b\"; n = o.list.size" => ["n" => "2"],
        "o.a.b.c = 1; x = o.a.b.c" => ["x" => "1"],
        "o.name = \"Ada\"; x = o.name.len()" => ["x" => "3"],
        "o.items[1] = \"a\"; o.items[2] = \"b\"; j = asjson(o)" => ["j" => "{\"items\":[\"a\",\"b\"]}"],
        "j = '{\"a\": {\"b\": [1, 2]}}'; o = parsejson(j); x = o.a.b[2]" => ["x" => "2"],
        "o = parsejson('[1,2,3]'); n = o.size" => ["n" => "3"],
        "o = parsejson('{\"z\":1,\"a\":2}'); j = o.asjson()" => ["j" => "{\"z\":\"1\",\"a\":\"2\"}"],
        "o.k = 5; y = o.k.$value" => ["y" => "5"],
        "o.k = 1; y = o[\"k\"]" => ["y" => "1"],
        "o = parsejson('[1]'); o = append(o, 2); n = count(o)" => ["n" => "2"],
        "DYNAMIC o; n = o.size" => ["n" => "0"],
        "o.Files = 1; o.files = 2; j = asjson(o)" => ["j" => "{\"Files\":\"1\",\"files\":\"2\"}"],
        "o.a = 1; o.a.b = 2; j = asjson(o)" => ["j" => "{\"a\":{\"b\":\"2\"}}"],
        "p.name = \"x\"; q = p; q.name = \"y\"; a = p.name; b = q.name" => ["a" => "x", "b" => "y"],
        "o.list[1] = 10; o.list[2] = 20; FOREACH v IN o.list { t = t + v }" => ["t" => "30"],
        "o.a = 1; o.b = 2; FOREACH v IN o { t = t + v }" => ["t" => "3"],
        // Decisions.
        "IF 1 = 1 { x = \"yes\" } ELSE { x = \"no\" }" => ["x" => "yes"],
        "IF 1 = 2 { x = \"yes\" } ELSE { x = \"no\" }" => ["x" => "no"],
        "IF 1 = 2 { x = 1 } ELSE IF 2 = 2 { x = 2 }" => ["x" => "2"],
        "IF 1 = 2 { x = 1 }" => ["x" => "<unset>"],
        "IF 1 = 1\n{\n x = 1\n}\nELSE\n{\n x = 2\n}" => ["x" => "1"],
        "x = 2; SWITCH x { CASE 1 { y = \"one\" } CASE 2 { y = \"two\" } DEFAULT { y = \"other\" } }" => ["y" => "two"],
        "x = 9; SWITCH x { CASE 1 { y = \"one\" } DEFAULT { y = \"other\" } }" => ["y" => "other"],
        "x = \"b\"; SWITCH x { CASE \"a\", \"b\" { y = \"ab\" } }" => ["y" => "ab"],
        "x = \"2.0\"; SWITCH x { CASE 2 { y = \"two\" } }" => ["y" => "two"],
        "SWITCH 3\n{\n CASE 3\n  y = \"three\"\n  z = 1\n DEFAULT\n  y = \"d\"\n}" => ["y" => "three", "z" => "1"],
        "x = 5; SELECT { CASE x < 3 { y = \"low\" } CASE x < 10 { y = \"mid\" } DEFAULT { y = \"high\" } }" => ["y" => "mid"],
        "SELECT { CASE 1 = 2 { y = 1 } DEFAULT { y = 2 } }" => ["y" => "2"],
        "SELECT { CASE 1 = 1 { y = 1 } CASE 2 = 2 { y = 2 } }" => ["y" => "1"],
        // Loops.
        "FOR i = 1 TO 10 STEP 3 { s = \"{s}{i},\" }" => ["s" => "1,4,7,10,"],
        "FOR i = 10 TO 1 STEP 4 { s = \"{s}{i},\" }" => ["s" => "10,6,2,"],
        "FOR i = 1 TO 3 STEP -1 { s = \"{s}{i}\" }" => ["s" => "123"],
        "FOR i = 1 TO 3 { IF i = 2 { BREAK } s = \"{s}{i}\" }" => ["s" => "1"],
        "FOR i = 1 TO 3 { }; x = i" => ["x" => "4"],
        "FOR i = 1 TO 3 { i = i + 1; n = n + 1 }" => ["n" => "2"],
        "FOR i = 1 TO 3 { FOR j = 1 TO 2 { n = n + 1 } }" => ["n" => "6"],
        "n = 3; FOR i = 1 TO n { t = t + i }" => ["t" => "6"],
        "FOR i = 0.5 TO 2 { s = \"{s}{i};\" }" => ["s" => "0.5;1.5;"],
        "i = 0; WHILE i < 5 { i = i + 1 }" => ["i" => "5"],
        "i = 0; WHILE 1 = 1 { i = i + 1; IF i >= 3 { BREAK } }" => ["i" => "3"],
        "WHILE 1 = 2 { x = 1 }" => ["x" => "<unset>"],
        "FOREACH c IN \"x|y|z\" { s = \"{s}{c}\" }" => ["s" => "xyz"],
        "o = parsejson('[1,2,3]'); FOREACH v IN o { t = t + v }" => ["t" => "6"],
        "FOREACH v IN \"\" { n = n + 1 }" => ["n" => "<unset>"],
        "FOREACH v IN \"a|b\" { IF v = \"b\" { BREAK } s = \"{s}{v}\" }" => ["s" => "a"],
        "Names = \"Odin|Freya\"; FOR i = 1 TO Names.size { Persons[i].Name = \"{Names[i]}\" }; j = asjson(Persons)" =>
            ["j" => "[{\"Name\":\"Odin\"},{\"Name\":\"Freya\"}]"],
        // Functions.
        "FUNCTION add(a, b) { RETURN a + b } x = add(2, 3)" => ["x" => "5"],
        "FUNCTION twice(s) { RETURN \"{s}{s}\" } x = \"ab\".twice()" => ["x" => "abab"],
        "FUNCTION MyAppend(a, b) { RETURN \"{a}{b}\" } FOR i = 1 TO 3 { ph = \"{ph.MyAppend(i)}\" }" => ["ph" => "123"],
        "FUNCTION fact(n) { IF n <= 1 { RETURN 1 } RETURN n * fact(n - 1) } x = fact(5)" => ["x" => "120"],
        "FUNCTION noop() { y = 1 } noop(); x = y" => ["x" => "<unset>", "y" => "<unset>"],
        "FUNCTION nothing() { } x = nothing()" => ["x" => "<unset>"],
        "FUNCTION f(x) { x = x * 2; RETURN x } x = 3; y = f(x)" => ["x" => "3", "y" => "6"],
        "FUNCTION sq(v) { RETURN v * v } x = sq(sq(3))" => ["x" => "81"],
        // Statements.
        "TRACE \"hello {1+1}\"" => ["!trace" => "hello 2"],
        "RETURN; x = 1" => ["x" => "<unset>"],
        "x = 1; RETURN x; y = 2" => ["x" => "1", "y" => "<unset>"],
        "x += 5; x -= 2" => ["x" => "3"],
        "s = \"a\"; s += \"b\"" => ["s" => "0"],
        "// a comment only" => ["x" => "<unset>"],
        "x = 1 // trailing comment" => ["x" => "1"],
        "assign x = 1; if x = 1 { y = 2 }" => ["y" => "2"],
        "Assign X = 1; If x = 1 { Y = 2 } Else { Y = 3 }" => ["y" => "2"],
        "x = 1;;; y = 2" => ["x" => "1", "y" => "2"],
        // Built-in functions.
        "x = len(\"héllo\")" => ["x" => "5"],
        "x = left(\"abcdef\", 2)" => ["x" => "ab"],
        "x = right(\"abcdef\", 2)" => ["x" => "ef"],
        "x = mid(\"abcdef\", 2, 3)" => ["x" => "bcd"],
        "x = mid(\"abcdef\", 4)" => ["x" => "def"],
        "x = upper(\"abc\")" => ["x" => "ABC"],
        "x = lower(\"ABC\")" => ["x" => "abc"],
        "x = trim(\"  a  \")" => ["x" => "a"],
        "x = ltrim(\"  a \")" => ["x" => "a "],
        "x = rtrim(\" a  \")" => ["x" => " a"],
        "x = replace(\"a-b-c\", \"-\", \"+\")" => ["x" => "a+b+c"],
        "x = indexof(\"hello\", \"l\")" => ["x" => "3"],
        "x = indexof(\"hello\", \"z\")" => ["x" => "0"],
        "x = contains(\"hello\", \"ell\")" => ["x" => "True"],
        "x = startswith(\"hello\", \"he\")" => ["x" => "True"],
        "x = endswith(\"hello\", \"lo\")" => ["x" => "True"],
        "x = padleft(\"7\", 3, \"0\")" => ["x" => "007"],
        "x = padleft(\"abc\", 2)" => ["x" => "abc"],
        "x = split(\"a,b,c\", \",\")" => ["x" => "a|b|c"],
        "x = format(1234.5, \"#,##0.00\")" => ["x" => "1,234.50"],
        "x = format(#\"2026-03-08 14:05\", \"yyyy/MM/dd HH:mm\")" => ["x" => "2026/03/08 14:05"],
        "x = abs(-3.5)" => ["x" => "3.5"],
        "x = round(2.5)" => ["x" => "3"],
        "x = round(2.675, 2)" => ["x" => "2.68"],
        "x = floor(2.7)" => ["x" => "2"],
        "x = ceiling(2.1)" => ["x" => "3"],
        "x = min(3, 8)" => ["x" => "3"],
        "x = max(3, 8)" => ["x" => "8"],
        "x = random(1)" => ["x" => "0"],
        "x = random(5, 5)" => ["x" => "5"],
        "x = isnumeric(\"12.5\")" => ["x" => "True"],
        "x = isnumeric(\"12a\")" => ["x" => "False"],
        "x = now()" => ["x" => "2026-11-21 10:00:00"],
        "x = now().asdate()" => ["x" => "2026-11-21"],
        "x = asdate(\"2026-03-08 14:05:00\")" => ["x" => "2026-03-08"],
        "x = astime(\"2026-03-08 14:05:00\")" => ["x" => "14:05:00"],
        "x = asdatetime(\"3/8/2026 2:05 PM\")" => ["x" => "2026-03-08 14:05:00"],
        "x = asdatetime(\"2026-03-08\", \"dd.MM.yyyy\")" => ["x" => "08.03.2026"],
        "x = asisodatetime(\"2026-03-08 14:05:00\")" => ["x" => "2026-03-08T14:05:00.000Z"],
        "x = asutc(\"2026-03-08 14:05:00\")" => ["x" => "2026-03-08 14:05:00"],
        "x = dateadd(\"day\", 3, \"2026-02-27\")" => ["x" => "2026-03-02 00:00:00"],
        "x = dateadd(\"2026-02-27\", 1)" => ["x" => "2026-02-28 00:00:00"],
        "x = \"2026-01-31\".dateadd(\"month\", 1)" => ["x" => "2026-02-28 00:00:00"],
        "x = dateadd(\"h\", -2, \"2026-03-08 01:00\")" => ["x" => "2026-03-07 23:00:00"],
        "x = datediff(\"day\", \"2026-03-01\", \"2026-03-08\")" => ["x" => "7"],
        "x = datediff(\"hour\", \"2026-03-08 01:00\", \"2026-03-08 04:30\")" => ["x" => "3"],
        "x = datepart(\"month\", \"2026-03-08\")" => ["x" => "3"],
        "x = \"2026-03-08\".datepart(\"year\")" => ["x" => "2026"],
        "x = datebuild(2026, 3, 8)" => ["x" => "2026-03-08 00:00:00"],
        "x = datetimebuild(2026, 3, 8, 9, 30, 0)" => ["x" => "2026-03-08 09:30:00"],
        "x = dow(\"2026-03-08\")" => ["x" => "0"],
        "x = asdate(45000)" => ["x" => "2023-03-15"],
        "x = asjson(\"a\")" => ["x" => "\"a\""],
        "x = asjson(5)" => ["x" => "\"5\""],
        "x = count(\"\")" => ["x" => "0"],
        // Runtime errors.
        "x = 1 / 0" => ["!error" => "division by zero"],
        "x = 5 % 0" => ["!error" => "division by zero"],
        "x = mid(\"abc\", 0)" => ["!error" => "counts from 1"],
        "x = parsejson(\"{bad\")" => ["!error" => "not valid JSON"],
        "o = 5; o[0] = 1" => ["!error" => "whole number from 1"],
        "x = left(\"abc\", \"z\")" => ["!error" => "must be a number"],
        "FOR i = 1 TO 3 STEP 0 { }" => ["!error" => "STEP"],
        "x = dateadd(\"day\", 1, \"not a date\")" => ["!error" => "not a date"],
        "a = 1; b = 1 / 0; c = 3" => ["!error" => "division by zero", "a" => "1", "c" => "<unset>"],
        "FUNCTION f(n) { RETURN f(n + 1) } x = f(1)" => ["!error" => "call depth budget exceeded"],
        // Compile errors.
        "x = " => ["!compile" => "expected a value"],
        "IF x { " => ["!compile" => "missing '}'"],
        "x = nosuch(1)" => ["!compile" => "unknown function"],
        "x = len(1, 2)" => ["!compile" => "takes 1 argument"],
        "FOR i = 1 { }" => ["!compile" => "expected TO"],
        "CASE 1 { }" => ["!compile" => "cannot start"],
        "FUNCTION f() { global:x = 1 }" => ["!compile" => "not available inside FUNCTION"],
        "x = #\"not a date\"" => ["!compile" => "not a date"],
        "USES Something" => ["!compile" => "not supported"],
    ];
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(src, expected)| check(src, expected).map(|why| format!("  {src:?}: {why}")))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// The typed form gives the same variables as the general form, whatever
/// the entry values (numbers, numeric text, text, unset).
#[test]
fn typed_and_general_forms_agree() {
    let snippets = [
        "total = total + i * 2; label = \"{total}\"",
        "FOR i = 1 TO n { t = t + i }",
        "x = a * b; y = x = c; z = len(a)",
        "IF a > b { m = a } ELSE { m = b }",
        "s = \"{a}{b}\"; r = a - b",
    ];
    let entries: [(&str, Value); 5] = [
        ("number", Value::Number(5.0)),
        ("numeric text", Value::text("05")),
        ("text", Value::text("abc")),
        ("unset", Value::Null),
        ("decimal", Value::text("2.50")),
    ];
    for src in snippets {
        let compiled = CompiledSnippet::compile(src, Pos::new(1, 1), &[]).expect("compiles");
        for (label, v) in &entries {
            for other in [Value::Number(3.0), Value::text("3")] {
                let mut vars = Vars::default();
                for (name, val) in [("a", v), ("b", &other), ("c", v), ("n", &other), ("total", v), ("i", &other)] {
                    if !val.is_null() {
                        vars.local.insert(name.into(), (name.into(), val.clone()));
                    }
                }
                let run = compiled.run(&mut vars, &mut env(), &Limits::default());
                assert!(run.error.is_none(), "{src} with {label}: {:?}", run.error);
                // The reference: the general form alone.
                let reference = reference_run(src, v, &other);
                let got: Vec<(String, String)> =
                    vars.local.values().map(|(n, v)| (n.clone(), v.to_text().to_string())).collect();
                assert_eq!(got, reference, "{src} with a = {label}, b = {other}");
            }
        }
    }
}

fn reference_run(src: &str, v: &Value, other: &Value) -> Vec<(String, String)> {
    let compiled = CompiledSnippet::compile(src, Pos::new(1, 1), &[]).expect("compiles");
    let mut vars = Vars::default();
    for (name, val) in [("a", v), ("b", other), ("c", v), ("n", other), ("total", v), ("i", other)] {
        if !val.is_null() {
            vars.local.insert(name.into(), (name.into(), val.clone()));
        }
    }
    let run = compiled.run_untyped(&mut vars, &mut env(), &Limits::default());
    assert!(run.error.is_none(), "reference {src}: {:?}", run.error);
    vars.local.values().map(|(n, v)| (n.clone(), v.to_text().to_string())).collect()
}
