//! The queue: support conversations by status and assignee, the longest waiting first, by
//! cursor.

use serde_json::{Value, json};

use super::{agent, as_user, assign, listed, open_support, set_status};
use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_queue_filters_and_puts_the_longest_waiting_first() {
    let app = spawn_app().await;
    let sam = agent(&app, "sam").await;
    let tom = agent(&app, "tom").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let customer = app.register(&format!("customer{n}")).await;
        let id = open_support(&app, &customer).await["id"].as_i64().unwrap();
        app.send_rest(&customer, id, "help").await;
        ids.push((id, customer));
    }
    // The first customer's wait ends with the team's answer; it goes to the back.
    let (first, _) = &ids[0];
    assign(&app, &sam, *first, json!(sam.id)).await;
    app.send_rest(&sam, *first, "On it").await;
    assign(&app, &sam, ids[1].0, json!(tom.id)).await;
    set_status(&app, &sam, ids[3].0, json!({"status": "pending"})).await;

    let queue = |query: &'static str| {
        let (app, sam) = (&app, &sam);
        async move { listed::<i64>(app, sam, &format!("/api/v1/desk/queue{query}"), "id").await }
    };
    assert_eq!(queue("").await, [ids[1].0, ids[2].0, ids[0].0]);
    assert_eq!(queue("?assignee=me").await, [ids[0].0]);
    assert_eq!(queue("?assignee=none").await, [ids[2].0]);
    assert_eq!(queue("?status=pending").await, [ids[3].0]);
    assert_eq!(
        queue("?status=all").await,
        [ids[1].0, ids[2].0, ids[3].0, ids[0].0]
    );
    for bad in [
        "?status=closed",
        "?assignee=him",
        "?limit=0",
        "?cursor=nope",
    ] {
        let (code, body) = as_user(
            &app,
            &sam,
            "GET",
            &format!("/api/v1/desk/queue{bad}"),
            Value::Null,
        )
        .await;
        assert_eq!(code, 400, "{bad}: {body}");
    }

    // Pages of one, by the Link header, cover the same list.
    let mut path = "/api/v1/desk/queue?status=all&limit=1".to_string();
    let mut seen = Vec::new();
    loop {
        let response = app.get(&path, Some(&sam.access_token)).await;
        assert_eq!(response.status(), 200);
        let link = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_string());
        let page: Vec<Value> = response.json().await.unwrap();
        seen.extend(page.iter().map(|c| c["id"].as_i64().unwrap()));
        match link {
            Some(link) => {
                path = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string();
            }
            None => break,
        }
        assert!(seen.len() <= 4, "the pages go on: {seen:?}");
    }
    assert_eq!(seen, [ids[1].0, ids[2].0, ids[3].0, ids[0].0]);
}
