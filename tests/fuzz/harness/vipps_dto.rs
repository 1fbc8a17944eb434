//! Every ePayment and Access Token wire type of `luka::vipps::dto`: the first
//! byte picks the type, the rest is the JSON body. What parses must write
//! back and read again to the same value (the till stores create requests
//! and replays them on retry), and the access token must never show in
//! `Debug`.

use luka::vipps::dto::*;

use super::round_trip;

fn same<T>(bytes: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    if let Some(again) = round_trip::<T>(bytes) {
        let first: T = serde_json::from_slice(bytes).unwrap();
        assert_eq!(first, again, "a round trip changed the value");
    }
}

pub fn run(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 18 {
        0 => same::<CreatePaymentRequest>(body),
        1 => same::<CreatePaymentResponse>(body),
        2 => {
            same::<GetPaymentResponse>(body);
            if let Ok(p) = serde_json::from_slice::<GetPaymentResponse>(body) {
                // Only CREATED (and a state from a newer API) keeps the till polling.
                assert_eq!(
                    p.state.is_final(),
                    !matches!(p.state, State::Created | State::Unknown)
                );
            }
        }
        3 => same::<Vec<PaymentEvent>>(body),
        4 => same::<WebhookEvent>(body),
        5 => same::<ModificationRequest>(body),
        6 => same::<ModificationResponse>(body),
        7 => same::<Problem>(body),
        8 => same::<ForceApprove>(body),
        9 => access_token(body),
        10 => same::<Receipt>(body),
        11 => same::<OrderLine>(body),
        12 => same::<BottomLine>(body),
        13 => same::<Aggregate>(body),
        14 => same::<State>(body),
        15 => same::<PaymentEventName>(body),
        16 => same::<PaymentMethodResponse>(body),
        _ => same::<Customer>(body),
    }
}

fn access_token(body: &[u8]) {
    same::<AccessTokenResponse>(body);
    let Ok(t) = serde_json::from_slice::<AccessTokenResponse>(body) else {
        return;
    };
    let shown = format!("{t:?}");
    let token = t.access_token.as_str();
    // A token that is also a shown field, or part of the Debug text's own
    // words, is found there whatever Debug does with the token.
    let skeleton = format!(
        "{:?}",
        AccessTokenResponse {
            access_token: String::new(),
            ..t.clone()
        }
    );
    if token.len() < 4 || skeleton.contains(token) {
        return;
    }
    assert!(
        !shown.contains(token),
        "the access token shows in Debug: {shown}"
    );
}
