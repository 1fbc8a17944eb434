//! The catalogue's groups as records and their order, and event menus per
//! till (issue 15), against the hub on a throwaway PostgreSQL cluster with
//! real tills: the order made on *Varer* is the order of the till's
//! tiles; two tills with different menus each get only theirs; a switch
//! of menu reaches a running till between sales and is journaled; a
//! kioskansvarlig and bad input change nothing; a hub with text groups
//! upgrades to group records.

use super::*;

use luka::hub::catalogue::ProductInput;

/// Adds a product straight on the hub (the form is tested in `hub.rs`).
async fn add(rig: &HubRig, id: &str, name: &str, group: &str, price: &str, vat: &str) {
    let input = ProductInput {
        name: name.into(),
        group: group.into(),
        price: price.into(),
        vat_code: vat.into(),
        position: String::new(),
    };
    rig.hub.add_product(id, &input).await.unwrap();
}

/// Posts a form as the treasurer's browser would, with the page's token.
async fn post(rig: &HubRig, cookie: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let url = rig.url();
    let csrf = page_csrf(&get_page(&url, "/omsetning", cookie).await);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    post_form(&url, path, cookie, &all).await
}

fn ids(snap: &luka::hub::catalogue::Snapshot) -> Vec<&str> {
    snap.products.iter().map(|p| p.id.as_str()).collect()
}

async fn group_id(rig: &HubRig, name: &str) -> String {
    rig.hub
        .groups()
        .await
        .unwrap()
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no group {name}"))
        .id
        .to_string()
}

async fn menu_id(rig: &HubRig, name: &str) -> String {
    rig.hub
        .menus()
        .await
        .unwrap()
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no menu {name}"))
        .id
        .to_string()
}

fn catalogue_ids(c: &luka::domain::Catalog) -> Vec<String> {
    c.products().iter().map(|p| p.id.clone()).collect()
}

fn journal_of(store: &luka::store::Store) -> Vec<ChainRow> {
    let mut rows = Vec::new();
    store
        .read(|r| {
            r.chain_rows(|row| {
                rows.push(row.clone());
                true
            })
        })
        .unwrap();
    rows
}

/// The `catalogue.menu` entries: the menu switched to (`None`: the whole
/// catalogue); each is SAF-T 13999.
fn menu_switches(journal: &[ChainRow]) -> Vec<Option<String>> {
    journal
        .iter()
        .filter(|r| r.kind == "catalogue.menu")
        .map(|r| {
            assert_eq!(r.event_code, Some(13999), "a menu switch is 'other'");
            let d: serde_json::Value = serde_json::from_str(&r.data).unwrap();
            d["menu"].as_str().map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn groups_made_and_ordered_on_varer_are_the_order_of_the_tills_tiles() {
    // kaffe (Kiosk) and vaffel (Mat): versions 1 and 2.
    let (rig, cookie) = rig_with_catalogue().await;
    add(&rig, "brus", "Brus", "Kiosk", "35", "31").await;
    add(&rig, "voksen", "Voksen", "", "150", "6").await;
    let names: Vec<String> = rig
        .hub
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["Kiosk", "Mat"], "records, in the order they came");
    assert_eq!(
        ids(&rig.hub.snapshot().await.unwrap()),
        ["kaffe", "brus", "vaffel", "voksen"]
    );

    // A new group, last; voksen moved into it on its form.
    let (s, page) = post(
        &rig,
        &cookie,
        "/katalog/gruppe/ny",
        &[("name", "Billetter")],
    )
    .await;
    assert_eq!(s, 303, "{page}");
    let voksen = [
        ("id", "voksen"),
        ("name", "Voksen"),
        ("group", "Billetter"),
        ("price", "150"),
        ("vat_code", "6"),
    ];
    let (s, page) = post(&rig, &cookie, "/katalog/endre", &voksen).await;
    assert_eq!(s, 303, "{page}");
    // Billetter up twice: first. Once more changes nothing, no version.
    let billetter = group_id(&rig, "Billetter").await;
    for _ in 0..2 {
        let (s, page) = post(
            &rig,
            &cookie,
            "/katalog/gruppe/flytt",
            &[("id", &billetter), ("move", "up")],
        )
        .await;
        assert_eq!(s, 303, "{page}");
    }
    let before = rig.hub.catalogue_version().await.unwrap();
    let (s, _) = post(
        &rig,
        &cookie,
        "/katalog/gruppe/flytt",
        &[("id", &billetter), ("move", "up")],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        rig.hub.catalogue_version().await.unwrap(),
        before,
        "already first"
    );
    // brus above kaffe; Kiosk renamed Kafé, and its products follow.
    let (s, _) = post(
        &rig,
        &cookie,
        "/katalog/flytt",
        &[("id", "brus"), ("move", "up")],
    )
    .await;
    assert_eq!(s, 303);
    let kiosk = group_id(&rig, "Kiosk").await;
    let (s, _) = post(
        &rig,
        &cookie,
        "/katalog/gruppe/endre",
        &[("id", &kiosk), ("name", "Kafé")],
    )
    .await;
    assert_eq!(s, 303);
    let snap = rig.hub.snapshot().await.unwrap();
    assert_eq!(ids(&snap), ["voksen", "brus", "kaffe", "vaffel"]);
    let groups: Vec<&str> = snap.products.iter().map(|p| p.group.as_str()).collect();
    assert_eq!(groups, ["Billetter", "Kafé", "Kafé", "Mat"]);
    // 2 + brus, voksen, new group, voksen's group, ↑, ↑, brus ↑, rename:
    // one version per change, none for the move that moved nothing.
    assert_eq!(snap.version, 10);
    // The page lists them in that order, in their groups.
    let page = get_page(&rig.url(), "/katalog", &cookie).await;
    let at = |id: &str| page.find(&format!("id=\"product-{id}\"")).unwrap();
    assert!(at("voksen") < at("brus") && at("brus") < at("kaffe") && at("kaffe") < at("vaffel"));
    assert!(page.contains("value=\"Kafé\""), "{page}");

    // A real till sells in that order: its price list at start (what the
    // sale page makes its tiles from, in order) is the hub's.
    let till = paired_till(&rig, "kiosk-1").await;
    let config = luka::config::Config::load(Some(&till.config)).unwrap();
    assert_eq!(
        catalogue_ids(&config.catalog),
        ["voksen", "brus", "kaffe", "vaffel"]
    );
    let mut app = luka::app::App::start(config).await.unwrap();
    app.refresh_catalogue(std::time::Duration::from_millis(200));
    let kiosk = app.kiosk.clone();
    assert_eq!(
        catalogue_ids(&kiosk.catalog()),
        ["voksen", "brus", "kaffe", "vaffel"]
    );
    let group_of: Vec<String> = kiosk
        .catalog()
        .products()
        .iter()
        .map(|p| p.group.clone())
        .collect();
    assert_eq!(group_of, ["Billetter", "Kafé", "Kafé", "Mat"]);
    // Mat moved to the top while the till runs: its tiles follow.
    let mat = group_id(&rig, "Mat").await;
    for _ in 0..2 {
        let (s, _) = post(
            &rig,
            &cookie,
            "/katalog/gruppe/flytt",
            &[("id", &mat), ("move", "up")],
        )
        .await;
        assert_eq!(s, 303);
    }
    assert!(
        eventually(10, || catalogue_ids(&kiosk.catalog())
            == ["vaffel", "voksen", "brus", "kaffe"])
        .await,
        "{:?}",
        catalogue_ids(&kiosk.catalog())
    );
    // An order is not a price change: nothing journaled for it.
    let journal = journal_of(&app.store);
    assert!(
        price_changes_of(&journal, "vaffel").is_empty(),
        "a move journals no price change"
    );
    assert!(menu_switches(&journal).is_empty(), "no menu, no switch");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_tills_get_only_their_menus_and_a_switch_is_applied_between_sales_and_journaled() {
    let (rig, cookie) = rig_with_catalogue().await;
    let url = rig.url();
    add(&rig, "brus", "Brus", "Kiosk", "35", "31").await;
    add(&rig, "voksen", "Voksen", "Billetter", "150", "6").await;
    let a = paired_till(&rig, "kiosk-1").await;
    let b = paired_till(&rig, "kiosk-2").await;
    let sells = |till: &Till, product: &str| till.charge(&["--product", product, "--cash"]).0 == 0;
    // No menu yet: both sell the whole catalogue.
    assert!(sells(&a, "vaffel") && sells(&b, "kaffe"));

    for name in ["Kamp A-lag", "Cup lørdag"] {
        let (s, page) = post(&rig, &cookie, "/menyer/ny", &[("name", name)]).await;
        assert_eq!(s, 303, "{page}");
    }
    let (kamp, cup) = (
        menu_id(&rig, "Kamp A-lag").await,
        menu_id(&rig, "Cup lørdag").await,
    );
    for (id, name, products) in [
        (&kamp, "Kamp A-lag", ["kaffe", "voksen"]),
        (&cup, "Cup lørdag", ["vaffel", "brus"]),
    ] {
        let mut f = vec![("id", id.as_str()), ("name", name)];
        f.extend(products.iter().map(|p| ("product", *p)));
        let (s, page) = post(&rig, &cookie, "/menyer/endre", &f).await;
        assert_eq!(s, 303, "{page}");
    }
    // Saving the same again is no change and no version.
    let before = rig.hub.catalogue_version().await.unwrap();
    let (s, _) = post(
        &rig,
        &cookie,
        "/menyer/endre",
        &[
            ("id", &cup),
            ("name", "Cup lørdag"),
            ("product", "brus"),
            ("product", "vaffel"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), before);
    for (till, menu) in [("kiosk-1", &kamp), ("kiosk-2", &cup)] {
        let (s, page) = post(
            &rig,
            &cookie,
            "/kasser/meny",
            &[("till", till), ("menu", menu)],
        )
        .await;
        assert_eq!(s, 303, "{page}");
    }
    let page = get_page(&url, "/kasser", &cookie).await;
    assert!(
        page.contains(&format!("value=\"{kamp}\" selected>Kamp A-lag")),
        "{page}"
    );
    let page = get_page(&url, "/menyer", &cookie).await;
    assert!(
        page.contains("Brukes av <strong>kiosk-1</strong>"),
        "{page}"
    );
    assert!(
        page.contains(&format!("id=\"menu-{kamp}-voksen\" checked")),
        "{page}"
    );

    // The API: each till's credential gets its own menu, in the catalogue's order.
    let version = rig.hub.catalogue_version().await.unwrap();
    for (till, menu, want) in [
        (&a, "Kamp A-lag", ["kaffe", "voksen"]),
        (&b, "Cup lørdag", ["brus", "vaffel"]),
    ] {
        let (status, etag, body) = get_catalogue(&url, Some(&till.credential()), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(etag, Some(format!("\"catalogue-{version}\"")));
        let snap: luka::hub::catalogue::Snapshot = serde_json::from_str(&body).unwrap();
        assert_eq!(snap.menu.as_deref(), Some(menu));
        // kaffe (Kiosk) came before voksen's new group Billetter.
        assert_eq!(ids(&snap), want);
    }
    a.sync();
    b.sync();
    assert!(sells(&a, "kaffe") && sells(&a, "voksen"));
    assert!(
        !sells(&a, "vaffel") && !sells(&a, "brus"),
        "not on kiosk-1's menu"
    );
    assert!(sells(&b, "vaffel") && sells(&b, "brus"));
    assert!(!sells(&b, "kaffe"), "not on kiosk-2's menu");
    let (c, _, err) = a.charge(&["--product", "brus", "--cash"]);
    assert_ne!(c, 0);
    assert!(err.contains("no product 'brus'"), "{err}");
    // kiosk-1 journaled its menu once, and the products it took away.
    let journal = a.journal();
    assert_eq!(menu_switches(&journal), [Some("Kamp A-lag".to_string())]);
    let brus = price_changes_of(&journal, "brus");
    assert_eq!(brus.len(), 1, "{brus:?}");
    assert!(brus[0]["new"].is_null(), "brus left kiosk-1");

    // kiosk-1 runs; a Vipps sale is open when the treasurer switches it to the cup.
    let config = luka::config::Config::load(Some(&a.config)).unwrap();
    let mut app = luka::app::App::start(config).await.unwrap();
    app.refresh_catalogue(std::time::Duration::from_millis(200));
    let kiosk = app.kiosk.clone();
    let mut cart = luka::domain::Cart::new();
    cart.add_product(kiosk.catalog().get("kaffe").unwrap());
    let open = kiosk.start_vipps_sale(&cart, "").unwrap();
    let (s, _) = post(
        &rig,
        &cookie,
        "/kasser/meny",
        &[("till", "kiosk-1"), ("menu", &cup)],
    )
    .await;
    assert_eq!(s, 303);
    let switched = rig.hub.catalogue_version().await.unwrap();
    let db = a.db();
    assert!(
        eventually(10, || {
            luka::hub::till_catalogue::load_kept(&db)
                .unwrap()
                .is_some_and(|s| s.version == switched)
        })
        .await,
        "the switch came down"
    );
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        catalogue_ids(&kiosk.catalog()),
        ["kaffe", "voksen"],
        "not during a sale"
    );
    kiosk.cancel_sale(open.id).unwrap();
    assert!(
        eventually(20, || catalogue_ids(&kiosk.catalog()) == ["brus", "vaffel"]).await,
        "the cup's menu once the sale is over: {:?}",
        catalogue_ids(&kiosk.catalog())
    );
    // The till says so on Kasser: the menu it sells from now.
    let mut said = None;
    for _ in 0..100 {
        let tills = rig.hub.tills().await.unwrap();
        said = tills
            .into_iter()
            .find(|t| t.id == "kiosk-1")
            .and_then(|t| t.status)
            .and_then(|s| s.menu);
        if said.as_deref() == Some("Cup lørdag") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(said.as_deref(), Some("Cup lørdag"), "the till's status");
    let page = get_page(&url, "/kasser", &cookie).await;
    assert!(page.contains("menyen «Cup lørdag»"), "{page}");
    let journal = journal_of(&app.store);
    assert_eq!(
        menu_switches(&journal),
        [
            Some("Kamp A-lag".to_string()),
            Some("Cup lørdag".to_string())
        ]
    );
    let switch = journal
        .iter()
        .rfind(|r| r.kind == "catalogue.menu")
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(&switch.data).unwrap();
    assert_eq!(data["was"], "Kamp A-lag");
    let closed = journal
        .iter()
        .filter(|r| r.sale_id == Some(open.id))
        .map(|r| r.seq)
        .max()
        .unwrap();
    assert!(
        switch.seq > closed,
        "the switch comes after the open sale ended"
    );
    // Back to the whole catalogue: journaled as no menu.
    let (s, _) = post(
        &rig,
        &cookie,
        "/kasser/meny",
        &[("till", "kiosk-1"), ("menu", "")],
    )
    .await;
    assert_eq!(s, 303);
    assert!(eventually(20, || kiosk.catalog().products().len() == 4).await);
    assert_eq!(menu_switches(&journal_of(&app.store)).last(), Some(&None));
    app.shutdown().await;
    // The till's database is free for the commands below once nothing holds it.
    drop(kiosk);

    // The journal stays whole and exports: verify, SAF-T, and the hub's copy.
    let (c, out, err) = a.run(&["journal", "verify"]);
    assert_eq!(c, 0, "{out}{err}");
    let today = luka::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
    let saft = a.dir.path().join("saft.xml");
    let (c, out, err) = a.run(&[
        "export",
        "saft",
        "--from",
        &today.previous_day().unwrap().to_string(),
        "--to",
        &today.to_string(),
        "--out",
        saft.to_str().unwrap(),
    ]);
    assert_eq!(c, 0, "{out}{err}");
    let (ok, why) = crate::reports_day::xmllint(&saft);
    assert!(ok, "the SAF-T file with menu switches validates: {why}");
    a.sync();
    assert_eq!(rig.stored("kiosk-1").await, a.journal());
    assert!(
        rig.alerts("kiosk-1").await.is_empty(),
        "the hub's check holds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kioskansvarlig_and_bad_input_change_no_group_menu_or_till() {
    let (rig, cookie) = rig_with_catalogue().await;
    let url = rig.url();
    rig.add_till("kiosk-1");
    let (s, _) = post(&rig, &cookie, "/menyer/ny", &[("name", "Kamp")]).await;
    assert_eq!(s, 303);
    let (s, _) = post(&rig, &cookie, "/menyer/ny", &[("name", "Tom")]).await;
    assert_eq!(s, 303);
    let (kamp, tom) = (menu_id(&rig, "Kamp").await, menu_id(&rig, "Tom").await);
    let (s, _) = post(
        &rig,
        &cookie,
        "/menyer/endre",
        &[("id", &kamp), ("name", "Kamp"), ("product", "kaffe")],
    )
    .await;
    assert_eq!(s, 303);
    let (s, _) = post(
        &rig,
        &cookie,
        "/kasser/meny",
        &[("till", "kiosk-1"), ("menu", &kamp)],
    )
    .await;
    assert_eq!(s, 303);
    let mat = group_id(&rig, "Mat").await;
    let r = &rig;
    let state = || async move {
        (
            r.hub.catalogue_version().await.unwrap(),
            r.hub.groups().await.unwrap(),
            r.hub.menus().await.unwrap(),
            r.hub.till_menus().await.unwrap(),
            r.hub.products().await.unwrap(),
        )
    };
    let before = state().await;

    // A kioskansvarlig: 403 on every page and form of groups and menus.
    rig.hub
        .set_user("kiosk", PASSWORD, Role::Kiosk)
        .await
        .unwrap();
    let kiosk = log_in(&url, "kiosk", PASSWORD).await;
    assert_eq!(get_status(&url, "/menyer", &kiosk).await, 403);
    let csrf = page_csrf(&get_page(&url, "/utsolgt", &kiosk).await);
    for (path, fields) in [
        ("/katalog/gruppe/ny", vec![("name", "Snop")]),
        (
            "/katalog/gruppe/endre",
            vec![("id", mat.as_str()), ("name", "Snop")],
        ),
        (
            "/katalog/gruppe/arkiver",
            vec![("id", mat.as_str()), ("archived", "1")],
        ),
        (
            "/katalog/gruppe/flytt",
            vec![("id", mat.as_str()), ("move", "up")],
        ),
        ("/katalog/flytt", vec![("id", "vaffel"), ("move", "up")]),
        ("/menyer/ny", vec![("name", "Snop")]),
        (
            "/menyer/endre",
            vec![("id", kamp.as_str()), ("name", "X"), ("product", "vaffel")],
        ),
        (
            "/menyer/arkiver",
            vec![("id", tom.as_str()), ("archived", "1")],
        ),
        ("/kasser/meny", vec![("till", "kiosk-1"), ("menu", "")]),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields);
        let (s, page) = post_form(&url, path, &kiosk, &f).await;
        assert_eq!(s, 403, "{path}: {page}");
    }
    assert_eq!(state().await, before, "a kioskansvarlig changed nothing");

    // Bad input from the treasurer: the reason, and nothing changed.
    let long = "x".repeat(81);
    let sql = "kaffe'); DROP TABLE menu_products;--";
    // (form, its fields, the answer, what it says)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/katalog/gruppe/ny",
            vec![("name", "  ")],
            400,
            "Gruppenavnet kan ikke være tomt",
        ),
        (
            "/katalog/gruppe/ny",
            vec![("name", &long)],
            400,
            "Gruppenavnet kan ha høyst 80 tegn",
        ),
        (
            "/katalog/gruppe/ny",
            vec![("name", "kiosk")],
            409,
            "Det finnes alt en gruppe som heter «kiosk»",
        ),
        (
            "/katalog/gruppe/endre",
            vec![("id", &mat), ("name", "KIOSK")],
            409,
            "heter «KIOSK»",
        ),
        (
            "/katalog/gruppe/endre",
            vec![("id", "999999"), ("name", "Snop")],
            404,
            "Ingen gruppe med nummer 999999",
        ),
        (
            "/katalog/gruppe/endre",
            vec![("id", "1 OR 1=1"), ("name", "Snop")],
            400,
            "Ukjent gruppe «1 OR 1=1»",
        ),
        (
            "/katalog/gruppe/flytt",
            vec![("id", &mat), ("move", "sideways")],
            400,
            "Ukjent flytting «sideways»",
        ),
        (
            "/katalog/flytt",
            vec![("id", "finnes-ikke"), ("move", "up")],
            404,
            "Ingen vare «finnes-ikke»",
        ),
        (
            "/menyer/ny",
            vec![("name", "")],
            400,
            "Menynavnet kan ikke være tomt",
        ),
        (
            "/menyer/ny",
            vec![("name", &long)],
            400,
            "Menynavnet kan ha høyst 80 tegn",
        ),
        (
            "/menyer/ny",
            vec![("name", "KAMP")],
            409,
            "Det finnes alt en meny som heter «KAMP»",
        ),
        (
            "/menyer/endre",
            vec![
                ("id", &kamp),
                ("name", "Kamp"),
                ("product", "kaffe"),
                ("product", sql),
            ],
            400,
            "Ukjent vare «kaffe&#x27;); DROP TABLE menu_products;--»: menyen «Kamp» er ikke endret",
        ),
        (
            "/menyer/endre",
            vec![("id", &kamp), ("name", "Kamp")],
            409,
            "Menyen «Kamp» brukes av kiosk-1: den må ha minst én vare i salg",
        ),
        (
            "/menyer/endre",
            vec![("id", "999999"), ("name", "X")],
            404,
            "Ingen meny med nummer 999999",
        ),
        (
            "/menyer/arkiver",
            vec![("id", &kamp), ("archived", "1")],
            409,
            "Menyen «Kamp» brukes av kiosk-1",
        ),
        (
            "/kasser/meny",
            vec![("till", "kiosk-1"), ("menu", &tom)],
            409,
            "Menyen «Tom» har ingen varer i salg",
        ),
        (
            "/kasser/meny",
            vec![("till", "kiosk-1"), ("menu", "abc")],
            400,
            "Ukjent meny «abc»",
        ),
        (
            "/kasser/meny",
            vec![("till", "finnes-ikke"), ("menu", "")],
            404,
            "Ingen kasse «finnes-ikke»",
        ),
    ];
    for (path, fields, status, says) in cases {
        let (s, page) = post(&rig, &cookie, path, &fields).await;
        assert_eq!(s, status, "{path} {fields:?}: {page}");
        assert!(page.contains(says), "{path}: «{says}» in {page}");
        assert!(page.contains("role=\"alert\""), "{path}: shown as an alert");
    }
    // A product cannot be put into an archived group.
    let (s, _) = post(
        &rig,
        &cookie,
        "/katalog/gruppe/arkiver",
        &[("id", &mat), ("archived", "1")],
    )
    .await;
    assert_eq!(s, 303);
    let archived = state().await;
    let (s, page) = post(
        &rig,
        &cookie,
        "/katalog/endre",
        &[
            ("id", "kaffe"),
            ("name", "Kaffe"),
            ("group", "mat"),
            ("price", "30"),
            ("vat_code", "31"),
        ],
    )
    .await;
    assert_eq!(s, 409, "{page}");
    assert!(page.contains("Gruppen «Mat» er arkivert"), "{page}");
    let (s, _) = post_form(
        &url,
        "/katalog/gruppe/ny",
        &cookie,
        &[("csrf", "forged"), ("name", "Snop")],
    )
    .await;
    assert_eq!(s, 403, "a forged form token");
    // Nor by a CSV file: a new product there refuses the whole file, while
    // vaffel, in it already, may stay (the export reads back).
    let file = "id;navn;gruppe;pris;mva;plassering\n\
                vaffel;Vaffel;Mat;40;31;\n\
                bolle;Bolle;Mat;20;31;\n";
    let (s, page) = import_csv(&url, &cookie, file).await;
    assert_eq!(s, 400, "{page}");
    assert!(
        page.contains("Linje 3: Gruppen «Mat» er arkivert"),
        "{page}"
    );
    let (_, _, _, csv) = get_csv(&url, &cookie).await;
    let (s, page) = import_csv(&url, &cookie, &String::from_utf8(csv).unwrap()).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Ingen endringer"), "{page}");
    assert_eq!(state().await, archived, "nothing changed by any refusal");
    // The archived group takes vaffel off the tills; back, it returns.
    assert_eq!(ids(&rig.hub.snapshot().await.unwrap()), ["kaffe"]);
    let (s, _) = post(
        &rig,
        &cookie,
        "/katalog/gruppe/arkiver",
        &[("id", &mat), ("archived", "0")],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(ids(&rig.hub.snapshot().await.unwrap()), ["kaffe", "vaffel"]);

    // Archiving the last product of kiosk-1's menu is allowed; Kasser says
    // what it means for the till.
    let warning = "Menyen har ingen varer i salg lenger";
    assert!(!get_page(&url, "/kasser", &cookie).await.contains(warning));
    let (s, _) = post(
        &rig,
        &cookie,
        "/katalog/arkiver",
        &[("id", "kaffe"), ("archived", "1")],
    )
    .await;
    assert_eq!(s, 303);
    assert!(get_page(&url, "/kasser", &cookie).await.contains(warning));
    let (s, _) = post(
        &rig,
        &cookie,
        "/katalog/arkiver",
        &[("id", "kaffe"), ("archived", "0")],
    )
    .await;
    assert_eq!(s, 303);

    // SQL-looking names are names: stored as typed, shown escaped.
    let name = "Robert'); DROP TABLE groups;--";
    let (s, _) = post(&rig, &cookie, "/katalog/gruppe/ny", &[("name", name)]).await;
    assert_eq!(s, 303);
    let (s, _) = post(&rig, &cookie, "/menyer/ny", &[("name", name)]).await;
    assert_eq!(s, 303);
    assert!(
        rig.hub
            .groups()
            .await
            .unwrap()
            .iter()
            .any(|g| g.name == name)
    );
    assert!(
        rig.hub
            .menus()
            .await
            .unwrap()
            .iter()
            .any(|m| m.name == name)
    );
    let escaped = "Robert&#x27;); DROP TABLE groups;--";
    assert!(get_page(&url, "/katalog", &cookie).await.contains(escaped));
    assert!(get_page(&url, "/menyer", &cookie).await.contains(escaped));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_with_text_groups_upgrades_to_group_records_in_the_order_it_sold() {
    let (rig, _cookie) = rig_with_catalogue().await;
    add(&rig, "brus", "Brus", "Kiosk", "35", "31").await;
    add(&rig, "lodd", "Lodd", "", "20", "6").await;
    add(&rig, "bolle", "Bolle", "Mat", "25", "31").await;
    rig.add_till("kiosk-1");
    // Undo migration 005 by hand: text groups as before it, with the
    // spellings a hand-typed group field gave ("kiosk" beside "Kiosk"),
    // and the places the old page set (one list for all products).
    rig.hub
        .client()
        .await
        .unwrap()
        .batch_execute(
            "ALTER TABLE products ADD COLUMN grp TEXT NOT NULL DEFAULT ''; \
             UPDATE products p SET grp = g.name FROM groups g WHERE g.id = p.group_id; \
             UPDATE products SET grp = ' kiosk' WHERE id = 'brus'; \
             UPDATE products SET position = CASE id WHEN 'vaffel' THEN 1 WHEN 'bolle' THEN 2 \
                 WHEN 'kaffe' THEN 4 WHEN 'brus' THEN 5 ELSE 9 END; \
             ALTER TABLE tills DROP COLUMN menu_id; \
             DROP TABLE menu_products, menus; \
             ALTER TABLE products DROP COLUMN group_id; \
             DROP TABLE groups; \
             DELETE FROM hub_migrations WHERE version IN (5, 6);",
        )
        .await
        .unwrap();
    let version = rig.hub.catalogue_version().await.unwrap();
    let upgraded = Hub::connect(&rig._pg.url()).await.unwrap();
    assert_eq!(
        upgraded.migrations().await.unwrap(),
        [
            "001_init",
            "002_catalogue",
            "003_backoffice",
            "004_webhooks",
            "005_menus",
            "006_sales_units",
            "007_department_day"
        ]
    );
    // One group per text, any case, spelt as its first product had it; in
    // the order the tills showed them (Mat's first product had place 1,
    // Kiosk's place 4).
    let groups: Vec<(String, bool)> = upgraded
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.name, g.archived))
        .collect();
    assert_eq!(
        groups,
        [("Mat".to_string(), false), ("Kiosk".to_string(), false)]
    );
    let snap = upgraded.snapshot().await.unwrap();
    assert_eq!(ids(&snap), ["vaffel", "bolle", "kaffe", "brus", "lodd"]);
    let of = |id: &str| {
        snap.products
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .group
            .clone()
    };
    assert_eq!(
        (of("brus"), of("kaffe"), of("lodd")),
        ("Kiosk".into(), "Kiosk".into(), String::new())
    );
    assert_eq!(snap.version, version + 1, "the tills fetch it once more");
    assert_eq!(
        upgraded.till_menus().await.unwrap(),
        [("kiosk-1".to_string(), None)]
    );
    // And the upgraded hub works on: the CSV file reads back unchanged.
    let csv = upgraded.catalogue_csv().await.unwrap();
    assert!(csv.contains("brus;Brus;Kiosk;35,00;31;5;nei;nei"), "{csv}");
    let done = upgraded.import_catalogue(&csv).await.unwrap().unwrap();
    assert_eq!((done.added, done.changed), (0, 0), "round trip: no change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_treasurer_orders_groups_makes_a_menu_and_gives_it_a_till() {
    let (rig, _cookie) = rig_with_catalogue().await;
    add(&rig, "brus", "Brus", "Kiosk", "35", "31").await;
    add(&rig, "voksen", "Voksen", "Billetter", "150", "6").await;
    add(&rig, "barn", "Barn", "Billetter", "50", "6").await;
    rig.add_till("kiosk-1");
    rig.add_till("kiosk-2");

    let browser = support::webdriver::Browser::start(390, 844).await;
    browser.goto(&format!("{}/logg-inn", rig.url())).await;
    browser.type_into("#name", "kasserer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    assert!(browser.wait_for_url("/omsetning").await, "logged in");
    // ↑ on Billetter's heading, then on brus: no JavaScript, two posts.
    browser.goto(&format!("{}/katalog", rig.url())).await;
    let billetter = group_id(&rig, "Billetter").await;
    let version = |v: i64| format!("Katalogversjon <span id=\"version\">{v}</span>");
    page_with(&browser, &version(5)).await;
    for v in [6, 7] {
        browser
            .click(&format!("#group-{billetter} button[value=up]"))
            .await;
        page_with(&browser, &version(v)).await;
    }
    browser.click("#product-brus button[value=up]").await;
    page_with(&browser, &version(8)).await;
    assert_eq!(
        ids(&rig.hub.snapshot().await.unwrap()),
        ["voksen", "barn", "brus", "kaffe", "vaffel"]
    );
    save_screenshot("hub-katalog-grupper-phone.png", &browser.screenshot().await);
    browser.resize(1280, 800).await;
    save_screenshot(
        "hub-katalog-grupper-laptop.png",
        &browser.screenshot().await,
    );

    // A menu: named, three products ticked, saved.
    browser.goto(&format!("{}/menyer", rig.url())).await;
    browser
        .type_into("#new-menu input[name=name]", "Kamp A-lag")
        .await;
    browser.click("#new-menu button").await;
    page_with(&browser, "Ingen kasse bruker menyen").await;
    let kamp = menu_id(&rig, "Kamp A-lag").await;
    for p in ["voksen", "barn", "kaffe"] {
        browser.click(&format!("#menu-{kamp}-{p}")).await;
    }
    browser.click(&format!("#menu-{kamp} button.primary")).await;
    page_with(&browser, "3 varer").await;
    let menus = rig.hub.menus().await.unwrap();
    assert_eq!(menus[0].products, ["barn", "kaffe", "voksen"]);
    save_screenshot("hub-menyer-laptop.png", &browser.screenshot().await);
    browser.resize(390, 844).await;
    save_screenshot("hub-menyer-phone.png", &browser.screenshot().await);

    // Kasser: kiosk-1 sells from it.
    browser.goto(&format!("{}/kasser", rig.url())).await;
    browser
        .click(&format!("#till-kiosk-1 select option[value=\"{kamp}\"]"))
        .await;
    browser.click("#till-kiosk-1 form.till-menu button").await;
    page_with(&browser, &format!("value=\"{kamp}\" selected")).await;
    assert_eq!(
        rig.hub.till_menus().await.unwrap(),
        [
            ("kiosk-1".to_string(), Some(kamp.parse().unwrap())),
            ("kiosk-2".to_string(), None)
        ]
    );
    save_screenshot("hub-kasser-meny-phone.png", &browser.screenshot().await);
    browser.quit().await;
}

/// Issue 16, part 4: a menu names the Vipps sales unit its tills take
/// payment to; a till that has that unit's keys sells and books under it
/// (its MSN and department on every sale, the switch journaled); bad names
/// are refused; *Kasser* says when a till lacks the unit its menu names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_menus_sales_unit_reaches_the_till_which_sells_and_books_under_it() {
    let (rig, cookie) = rig_with_catalogue().await;
    let url = rig.url();
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let h = crate::sales_units::handball_sim_config();
    let handball = luka::sim::start(([127, 0, 0, 1], 0).into(), h.clone())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // `[vipps]`'s own unit is football's (department 10); handball's has
    // its own MSN, keys and department.
    let extra = format!(
        "name = \"Fotball\"\ndepartment = \"10\"\n\n\
         [[vipps.units]]\nname = \"Håndball\"\nmerchant_serial_number = \"234567\"\n\
         base_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
         subscription_key = \"{}\"\ndepartment = \"20\"\n",
        handball.base_url(),
        h.client_id,
        h.client_secret,
        h.subscription_key
    );
    let config = support::write_till_config(dir.path(), &sim, "kiosk-1", "Hub IL", &extra);
    let till = Till {
        _sim: sim,
        dir,
        config,
    };
    let (c, out, err) = till.pair(&url, &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    till.sync();

    let (s, page) = post(&rig, &cookie, "/menyer/ny", &[("name", "Håndballkamp")]).await;
    assert_eq!(s, 303, "{page}");
    let id = menu_id(&rig, "Håndballkamp").await;
    let save = |unit: String| {
        let id = id.clone();
        let rig = &rig;
        let cookie = &cookie;
        async move {
            post(
                rig,
                cookie,
                "/menyer/endre",
                &[
                    ("id", id.as_str()),
                    ("name", "Håndballkamp"),
                    ("product", "kaffe"),
                    ("product", "vaffel"),
                    ("sales_unit", unit.as_str()),
                ],
            )
            .await
        }
    };
    let (s, page) = save("Håndball".into()).await;
    assert_eq!(s, 303, "{page}");
    // Bad names change nothing.
    let version = rig.hub.catalogue_version().await.unwrap();
    for bad in ["x".repeat(61), "Hånd\u{7}ball".to_string()] {
        let (s, page) = save(bad).await;
        assert_eq!(s, 400, "{page}");
        assert!(page.contains("Salgsenheten"), "{page}");
    }
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), version);
    let (s, page) = post(
        &rig,
        &cookie,
        "/kasser/meny",
        &[("till", "kiosk-1"), ("menu", &id)],
    )
    .await;
    assert_eq!(s, 303, "{page}");

    // The API gives the till its menu's unit.
    let (status, _, body) = get_catalogue(&url, Some(&till.credential()), None).await;
    assert_eq!(status, 200, "{body}");
    let snap: luka::hub::catalogue::Snapshot = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (snap.menu.as_deref(), snap.sales_unit.as_deref()),
        (Some("Håndballkamp"), Some("Håndball"))
    );

    // The till takes it and sells under handball: cash booked under 20 …
    till.sync();
    let (c, out, err) = till.charge(&["--product", "kaffe", "--cash"]);
    assert_eq!(c, 0, "{out}{err}");
    let journal = till.journal();
    let unit: serde_json::Value = serde_json::from_str(
        &journal
            .iter()
            .rev()
            .find(|r| r.kind == "sales.unit")
            .expect("the switch is journaled")
            .data,
    )
    .unwrap();
    assert_eq!(
        (&unit["unit"], &unit["msn"], &unit["department"]),
        (&"Håndball".into(), &"234567".into(), &"20".into())
    );
    let paid: serde_json::Value = serde_json::from_str(
        journal
            .iter()
            .rev()
            .find(|r| r.kind == "sale.paid")
            .and_then(|r| r.trans.as_deref())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(paid["department"], "20", "the signed transaction: {paid}");

    // … and Vipps paid to handball's MSN with its keys.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&till.config)
        .args(["charge", "--product", "vaffel", "--timeout", "30"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        support::eventually(std::time::Duration::from_secs(20), || !handball
            .payments()
            .is_empty())
        .await,
        "the payment reached handball's MSN"
    );
    let reference = handball.payments()[0].reference.clone();
    handball.approve(&reference).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        till._sim.payments().is_empty(),
        "nothing went to football's MSN"
    );
    till.sync();

    // The takings: both sales under department 20 (30 kr cash, 40 kr Vipps).
    let per_department = |page: &str| {
        page.split("id=\"per-department\"")
            .nth(1)
            .and_then(|t| t.split("</table>").next())
            .unwrap_or_default()
            .to_string()
    };
    let page = get_page(&url, "/omsetning", &cookie).await;
    let table = per_department(&page);
    assert!(
        table.contains("Avdeling 20") && table.contains("70,00"),
        "{page}"
    );
    assert!(
        table.contains("Kontant") && table.contains("Vipps"),
        "{table}"
    );
    // A hub that held these sales before it had department sums derives
    // them once, when it is upgraded.
    rig.hub
        .client()
        .await
        .unwrap()
        .batch_execute("DROP TABLE department_day; DELETE FROM hub_migrations WHERE version = 7;")
        .await
        .unwrap();
    let upgraded = Hub::connect(&rig._pg.url()).await.unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let t = upgraded
        .takings(
            today - time::Duration::days(1),
            today + time::Duration::days(1),
            None,
            false,
        )
        .await
        .unwrap();
    let d: Vec<_> = t
        .by_department
        .iter()
        .map(|d| (d.department.as_str(), d.net))
        .collect();
    assert_eq!(d, [("20", 7_000)]);
    assert_eq!(
        per_department(&get_page(&url, "/omsetning", &cookie).await),
        table
    );

    // Menyer shows the unit and offers the names the tills have; Kasser
    // warns when a till lacks the unit its menu names.
    let page = get_page(&url, "/menyer", &cookie).await;
    assert!(
        page.contains("name=\"sales_unit\" value=\"Håndball\""),
        "{page}"
    );
    let status = luka::hub::status::TillStatus {
        sales_unit: Some("Fotball".into()),
        sales_units: vec!["Fotball".into()],
        ..Default::default()
    };
    rig.hub.set_status("kiosk-1", &status).await.unwrap();
    let page = get_page(&url, "/kasser", &cookie).await;
    assert!(
        page.contains("men kassen har ikke nøkler for den"),
        "{page}"
    );
    let status = luka::hub::status::TillStatus {
        sales_unit: Some("Håndball".into()),
        department: Some("20".into()),
        sales_units: vec!["Fotball".into(), "Håndball".into()],
        ..Default::default()
    };
    rig.hub.set_status("kiosk-1", &status).await.unwrap();
    let page = get_page(&url, "/kasser", &cookie).await;
    assert!(
        !page.contains("men kassen har ikke nøkler for den"),
        "{page}"
    );
    assert!(page.contains("Håndball, avdeling 20"), "{page}");
    let page = get_page(&url, "/menyer", &cookie).await;
    assert!(page.contains("<option value=\"Fotball\">"), "{page}");
    handball.shutdown().await;
}
