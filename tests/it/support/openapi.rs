//! Checks recorded HTTP exchanges against the official OpenAPI files in
//! `specs/vipps` (the bundled ePayment spec and the Access Token spec), with the
//! `jsonschema` crate.
//!
//! Owns the translation from OpenAPI 3.0 to JSON Schema (draft 4, which 3.0 schemas are
//! closest to): `$ref`s are inlined, `nullable: true` becomes a `null` type, and the spec
//! quirks listed in [`apply_spec_quirks`] are handled explicitly. It must never edit the
//! spec files or loosen a rule silently: every deviation is written down here.
//!
//! What is checked, for every exchange of a spec operation that got a response:
//! - the response body against the schema for (operationId, status); a status the spec
//!   does not list must carry a `Problem` (and be sent as `application/problem+json`);
//!   a listed status with no content in the spec (forceApprove 200, token 401) is not
//!   checked further;
//! - when the server answered 2xx (so it claimed the request was valid): the request
//!   body against the requestBody schema and every required header parameter (present
//!   and matching its schema) and the path `reference` against its pattern.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use luka::sim::Exchange;
use serde_json::{Map, Value, json};

/// What part of an operation a value is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Request,
    Response(u16),
}

struct Specs {
    documents: Vec<Value>,
    compiled: Mutex<HashMap<String, Arc<Validator>>>,
}

/// The official specs, copied into the repo (`specs/README.md` names each one's origin).
/// Only the repo itself is read: a clone anywhere tests itself.
pub fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs")
}

fn specs() -> &'static Specs {
    static SPECS: OnceLock<Specs> = OnceLock::new();
    SPECS.get_or_init(|| {
        let dir = specs_dir().join("vipps");
        let documents = ["epayment.v1.bundled.yml", "access-token.swagger.yaml"]
            .iter()
            .map(|name| {
                let path = dir.join(name);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                let mut doc: Value = serde_yaml::from_str(&text)
                    .unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
                apply_spec_quirks(&mut doc);
                doc
            })
            .collect();
        Specs {
            documents,
            compiled: Mutex::new(HashMap::new()),
        }
    })
}

/// The places where the official files cannot be used as written, each handled on
/// purpose:
///
/// 1. `PaymentEvent.required` lists `paymentAction`, a property the schema never defines;
///    real event logs (and the webhook `WebhookEvent`) carry `name`. The requirement is
///    moved to `name`, so a log without `name` still fails.
/// 2. `Customer` is a `oneOf` of three objects that each have one property but no
///    `required`, so any object matches all three and `oneOf` would reject every
///    customer. Each alternative is made to require its own property, which is what the
///    description says ("specifying more than one of these will result in an error").
fn apply_spec_quirks(doc: &mut Value) {
    if let Some(required) = doc
        .pointer_mut("/components/schemas/PaymentEvent/required")
        .and_then(Value::as_array_mut)
    {
        for r in required.iter_mut() {
            if r == "paymentAction" {
                *r = json!("name");
            }
        }
    }
    for alt in ["CustomerPhoneNumber", "PersonalQrCode", "CustomerToken"] {
        if let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{alt}"))
            && let Some(props) = schema.get("properties").and_then(Value::as_object)
        {
            let names: Vec<Value> = props.keys().map(|k| json!(k)).collect();
            schema["required"] = Value::Array(names);
        }
    }
}

/// Follows a local `#/a/b/c` reference.
fn lookup<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').unwrap_or_else(|| {
        panic!("only local $refs are expected in the bundled spec: {reference}")
    });
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("dangling $ref {reference}"))
}

/// Inlines every `$ref` (OpenAPI 3.0 ignores a `$ref`'s siblings, so they are dropped).
pub fn resolve(doc: &Value, node: &Value, depth: usize) -> Value {
    assert!(depth < 40, "$ref nesting too deep: recursive schema?");
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                return resolve(doc, lookup(doc, r), depth + 1);
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), resolve(doc, v, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve(doc, v, depth + 1)).collect())
        }
        other => other.clone(),
    }
}

/// OpenAPI 3.0 schema → JSON Schema: `nullable: true` admits `null` (in `type` and, if
/// present, in `enum`); vendor extensions and `example`s are dropped.
pub fn to_json_schema(node: &Value) -> Value {
    match node {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .filter(|(k, _)| !k.starts_with("x-") && *k != "example" && *k != "nullable")
                .map(|(k, v)| {
                    // `properties` maps names to schemas; its keys are not keywords.
                    let v = if k == "properties" {
                        Value::Object(
                            v.as_object()
                                .map(|p| {
                                    p.iter()
                                        .map(|(n, s)| (n.clone(), to_json_schema(s)))
                                        .collect()
                                })
                                .unwrap_or_default(),
                        )
                    } else {
                        to_json_schema(v)
                    };
                    (k.clone(), v)
                })
                .collect();
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(e)) = out.get_mut("enum")
                    && !e.contains(&Value::Null)
                {
                    e.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

/// The document and `(path, method, operation)` for an operationId.
fn operation(op_id: &str) -> Option<(&'static Value, Value, Value)> {
    for doc in &specs().documents {
        for (path, item) in doc["paths"].as_object()? {
            for (method, op) in item.as_object()? {
                if op.get("operationId").and_then(Value::as_str) == Some(op_id) {
                    return Some((
                        doc,
                        item.clone(),
                        json!({"path": path, "method": method, "op": op}),
                    ));
                }
            }
        }
    }
    None
}

/// The first media type's schema of a `content` map, and whether it is `Problem`.
fn content_schema(doc: &Value, holder: &Value) -> Option<(Value, bool)> {
    let content = holder.get("content")?.as_object()?;
    let (_, media) = content.iter().next()?;
    let raw = media.get("schema")?;
    let is_problem =
        raw.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/Problem");
    Some((resolve(doc, raw, 0), is_problem))
}

/// The JSON Schema for an operation's request body or for one of its responses.
/// `Ok(None)`: the spec lists the status without content, so there is nothing to check.
/// The bool says the schema is `Problem`.
pub fn schema_for(op_id: &str, target: Target) -> Result<Option<(Value, bool)>, String> {
    let (doc, _, found) =
        operation(op_id).ok_or_else(|| format!("no operation {op_id} in the specs"))?;
    let op = &found["op"];
    let picked = match target {
        Target::Request => match op.get("requestBody") {
            None => return Ok(None),
            Some(rb) => content_schema(doc, &resolve(doc, rb, 0)),
        },
        Target::Response(status) => match op["responses"].get(status.to_string()) {
            Some(resp) => content_schema(doc, &resolve(doc, resp, 0)),
            None => {
                // Not listed (401, 404, 429, 5xx on most operations): the standard error.
                let problem = specs().documents[0]
                    .pointer("/components/schemas/Problem")
                    .cloned();
                problem.map(|p| (p, true))
            }
        },
    };
    Ok(picked.map(|(s, p)| (to_json_schema(&s), p)))
}

fn validator(op_id: &str, target: Target, schema: &Value) -> Result<Arc<Validator>, String> {
    let key = format!("{op_id}/{target:?}");
    let mut cache = specs().compiled.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(&key) {
        return Ok(v.clone());
    }
    let v = jsonschema::draft4::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .build(schema)
        .map_err(|e| format!("schema for {key} does not compile: {e}"))?;
    let v = Arc::new(v);
    cache.insert(key, v.clone());
    Ok(v)
}

/// Checks one JSON value against (operationId, request) or (operationId, status).
pub fn validate_value(op_id: &str, target: Target, value: Option<&Value>) -> Result<(), String> {
    let Some((schema, _)) = schema_for(op_id, target)? else {
        return Ok(());
    };
    let value = value.ok_or_else(|| {
        format!("{op_id} {target:?}: the spec expects a JSON body, there was none")
    })?;
    let v = validator(op_id, target, &schema)?;
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{op_id} {target:?}: {}", errors.join("; ")))
    }
}

fn check_headers(ex: &Exchange) -> Result<(), String> {
    let (doc, item, found) = operation(&ex.operation).ok_or("unknown operation")?;
    let mut params: Vec<Value> = Vec::new();
    for holder in [item.get("parameters"), found["op"].get("parameters")]
        .into_iter()
        .flatten()
    {
        params.extend(
            holder
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| resolve(doc, p, 0)),
        );
    }
    for p in params {
        let name = p["name"].as_str().unwrap_or_default();
        let schema = to_json_schema(&p["schema"]);
        let value = match p["in"].as_str() {
            Some("header") => ex
                .request_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone()),
            Some("path") if name == "reference" => ex.reference.clone(),
            _ => continue,
        };
        match value {
            None if p["required"] == Value::Bool(true) => {
                return Err(format!(
                    "{}: required parameter {name} missing",
                    ex.operation
                ));
            }
            Some(v) if !jsonschema::draft4::is_valid(&schema, &json!(v)) => {
                return Err(format!(
                    "{}: parameter {name}={v:?} does not match {schema}",
                    ex.operation
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

const SPEC_OPERATIONS: [&str; 8] = [
    "fetchAuthorizationTokenUsingPost",
    "createPayment",
    "getPayment",
    "getPaymentEventLog",
    "capturePayment",
    "cancelPayment",
    "refundPayment",
    "forceApprove",
];

/// Checks one recorded exchange; exchanges of non-spec routes (phone, admin) and ones
/// that got no response (dropped, reset) pass.
pub fn validate_exchange(ex: &Exchange) -> Result<(), String> {
    if !SPEC_OPERATIONS.contains(&ex.operation.as_str()) {
        return Ok(());
    }
    let Some(status) = ex.status else {
        return Ok(());
    };
    let target = Target::Response(status);
    if let Some((_, is_problem)) = schema_for(&ex.operation, target)? {
        validate_value(&ex.operation, target, ex.response_body.as_ref())?;
        let ct = ex.response_content_type.as_deref().unwrap_or_default();
        if is_problem && !ct.starts_with("application/problem+json") {
            return Err(format!(
                "{} {status}: a Problem sent as {ct:?}",
                ex.operation
            ));
        }
    }
    if (200..300).contains(&status) {
        check_headers(ex)?;
        let required = operation(&ex.operation)
            .and_then(|(_, _, f)| f["op"]["requestBody"]["required"].as_bool())
            .unwrap_or(false);
        if ex.request_body.is_some() || required {
            validate_value(&ex.operation, Target::Request, ex.request_body.as_ref())?;
        }
    }
    Ok(())
}

/// Panics with every failing exchange (method, path, status and why).
pub fn validate_all(exchanges: &[Exchange]) {
    let failures: Vec<String> = exchanges
        .iter()
        .filter_map(|ex| {
            validate_exchange(ex)
                .err()
                .map(|e| format!("{} {} -> {:?}: {e}", ex.method, ex.path, ex.status))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "exchanges break the spec:\n{}",
        failures.join("\n")
    );
}
