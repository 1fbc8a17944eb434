//! Checks recorded Report API exchanges against `specs/vipps/report.swagger.yaml`
//! (OpenAPI 3.0.2), with the `$ref` inlining and OpenAPI → JSON Schema translation of
//! [`super::openapi`].
//!
//! The Report spec differs from the ePayment one in ways handled here, on purpose:
//! response codes are bare YAML integers (`200:`), so keys are turned into strings on
//! load; the by-date operation has no `operationId`, so operations are named as the
//! simulator's recorder names them (`getLedgers`, `fetchReportByDate`); a status the
//! operation does not list falls back to its `default` (a `Problem`). It must never
//! edit the spec or loosen a rule silently.

use std::sync::OnceLock;

use luka::sim::Exchange;
use serde_json::{Map, Value, json};

use super::openapi::{resolve, specs_dir, to_json_schema};

/// YAML → JSON with every mapping key as a string (`200` → `"200"`).
fn to_json(y: serde_yaml::Value) -> Value {
    match y {
        serde_yaml::Value::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        serde_yaml::Value::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, to_json(v))
                })
                .collect::<Map<_, _>>(),
        ),
        serde_yaml::Value::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        serde_yaml::Value::Tagged(t) => to_json(t.value),
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    }
}

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = specs_dir().join("vipps/report.swagger.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
        to_json(yaml)
    })
}

fn spec_path(operation: &str) -> Option<&'static str> {
    match operation {
        "getLedgers" => Some("/settlement/v1/ledgers"),
        "fetchReportByDate" => Some("/report/v2/ledgers/{ledgerId}/{topic}/dates/{ledgerDate}"),
        _ => None,
    }
}

fn get_op(operation: &str) -> Option<Value> {
    let doc = spec();
    let path = spec_path(operation)?;
    Some(resolve(doc, &doc["paths"][path]["get"], 0))
}

/// The JSON Schema and media type for a response, or `None` when the spec lists the
/// status without content (the by-date 404).
pub fn response_schema(operation: &str, status: u16) -> Result<Option<(Value, String)>, String> {
    let op = get_op(operation).ok_or_else(|| format!("no Report operation {operation}"))?;
    let responses = &op["responses"];
    let resp = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .ok_or_else(|| format!("{operation}: status {status} is not in the spec"))?;
    let Some(content) = resp.get("content").and_then(Value::as_object) else {
        return Ok(None);
    };
    let Some((media, body)) = content.iter().next() else {
        return Ok(None);
    };
    Ok(Some((to_json_schema(&body["schema"]), media.clone())))
}

fn check(schema: &Value, value: &Value, what: &str) -> Result<(), String> {
    let v = jsonschema::draft4::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .build(schema)
        .map_err(|e| format!("{what}: schema does not compile: {e}"))?;
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{what}: {}", errors.join("; ")))
    }
}

/// Path and header parameters of a request the server accepted.
fn check_parameters(ex: &Exchange, op: &Value) -> Result<(), String> {
    let path = ex.path.split('?').next().unwrap_or_default();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let template: Vec<&str> = spec_path(&ex.operation)
        .unwrap_or_default()
        .trim_matches('/')
        .split('/')
        .collect();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap_or_default();
        let value = match p["in"].as_str() {
            Some("path") => template
                .iter()
                .position(|t| *t == format!("{{{name}}}"))
                .and_then(|i| segs.get(i))
                .map(|s| s.to_string()),
            Some("header") => ex
                .request_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone()),
            _ => continue,
        };
        match value {
            None if p["required"] == Value::Bool(true) => {
                return Err(format!(
                    "{}: required parameter {name} missing",
                    ex.operation
                ));
            }
            Some(v) => check(&to_json_schema(&p["schema"]), &json!(v), name)?,
            None => {}
        }
    }
    Ok(())
}

/// Checks one exchange of a Report operation; other exchanges, and ones that got no
/// response (dropped, reset), pass.
pub fn validate_exchange(ex: &Exchange) -> Result<(), String> {
    let (Some(_), Some(status)) = (spec_path(&ex.operation), ex.status) else {
        return Ok(());
    };
    if let Some((schema, media)) = response_schema(&ex.operation, status)? {
        let body = ex
            .response_body
            .as_ref()
            .ok_or_else(|| format!("{} {status}: the spec expects a JSON body", ex.operation))?;
        check(&schema, body, &format!("{} {status}", ex.operation))?;
        let ct = ex.response_content_type.as_deref().unwrap_or_default();
        if !ct.starts_with(media.as_str()) {
            return Err(format!(
                "{} {status}: sent as {ct:?}, spec says {media}",
                ex.operation
            ));
        }
    }
    if (200..300).contains(&status) {
        let op = get_op(&ex.operation).unwrap_or_default();
        check_parameters(ex, &op)?;
    }
    Ok(())
}

/// The Report exchanges among `exchanges`.
pub fn report_exchanges(exchanges: &[Exchange]) -> Vec<&Exchange> {
    exchanges
        .iter()
        .filter(|e| spec_path(&e.operation).is_some())
        .collect()
}

/// Panics with every failing Report exchange (method, path, status and why).
pub fn validate_all(exchanges: &[Exchange]) {
    let failures: Vec<String> = report_exchanges(exchanges)
        .into_iter()
        .filter_map(|ex| {
            validate_exchange(ex)
                .err()
                .map(|e| format!("{} {} -> {:?}: {e}", ex.method, ex.path, ex.status))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "Report exchanges break the spec:\n{}",
        failures.join("\n")
    );
}
