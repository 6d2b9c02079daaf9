//! Parameter pieces several tools share: a task id, a task id beside a
//! domain request, and page sizes smaller than the REST API's.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

/// A task id.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRef {
    /// The task's id, from `list_tasks` or `add_task`.
    pub id: i64,
}

/// A task id beside a domain request's fields (`update_task`,
/// `snooze_task`): one flat object, unknown fields refused.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WithId<T> {
    /// The task's id, from `list_tasks` or `add_task`.
    pub id: i64,
    #[serde(flatten)]
    pub fields: T,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WithId<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (id, fields) = split(deserializer, "id", true)?;
        Ok(Self {
            id: id.unwrap_or_default(),
            fields,
        })
    }
}

/// Parses a flattened parameter object: takes `key` out for the outer
/// field and gives the rest to the domain type, which refuses unknown
/// fields itself (serde's `flatten` would let them through silently).
pub fn split<'de, D, K, T>(
    deserializer: D,
    key: &'static str,
    required: bool,
) -> Result<(Option<K>, T), D::Error>
where
    D: Deserializer<'de>,
    K: DeserializeOwned,
    T: DeserializeOwned,
{
    let mut map = Map::<String, Value>::deserialize(deserializer)?;
    let outer = match map.remove(key) {
        Some(value) => Some(
            serde_json::from_value(value).map_err(|e| D::Error::custom(format!("`{key}`: {e}")))?,
        ),
        None if required => return Err(D::Error::missing_field(key)),
        None => None,
    };
    let inner = serde_json::from_value(Value::Object(map)).map_err(D::Error::custom)?;
    Ok((outer, inner))
}

/// A REST query whose `limit` a tool bounds more tightly: at most `MAX`
/// per call, `DEFAULT` when left out. The schema says both, and the tool's
/// code reads the same numbers through [`Paged::limit`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Paged<T, const MAX: u32, const DEFAULT: u32>(pub T);

impl<T, const MAX: u32, const DEFAULT: u32> Paged<T, MAX, DEFAULT> {
    /// The page size asked for, checked; `next` names the argument that
    /// continues a list.
    pub fn limit(given: Option<u32>, next: &str) -> Result<u32, String> {
        match given {
            Some(limit) if limit > MAX => Err(format!(
                "Invalid `limit`: at most {MAX} per call; use `{next}` for more."
            )),
            Some(limit) => Ok(limit),
            None => Ok(DEFAULT),
        }
    }
}

impl<T: JsonSchema, const MAX: u32, const DEFAULT: u32> JsonSchema for Paged<T, MAX, DEFAULT> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}Paged{MAX}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = T::json_schema(generator);
        if let Some(limit) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut("limit"))
            .and_then(Value::as_object_mut)
        {
            limit.insert("maximum".into(), json!(MAX));
            limit.insert("default".into(), json!(DEFAULT));
            limit.insert(
                "description".into(),
                json!(format!("Page size, 1 to {MAX} (default {DEFAULT}).")),
            );
        }
        schema
    }
}
