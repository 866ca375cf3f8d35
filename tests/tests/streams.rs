//! Reading several streams in one statement (`store::streams`, issue 17 item 4): every stream
//! folds exactly as when cqrs-es and postgres-es / sqlite-es read it alone, a stream named twice
//! comes back once, the number of streams is bounded, and an event that cannot be read fails
//! the lookup that reads it as it always did, and no other.

use cqrs_es::Aggregate;
use dinghuo_commands::{Commands, SubmitOrderInput};
use dinghuo_domain::contact::Contact;
use dinghuo_domain::order::Order;
use dinghuo_domain::partner::Partner;
use dinghuo_domain::product::Product;
use dinghuo_domain::tenant::Tenant;
use dinghuo_domain::{DomainError, Lookup, OrderId, ProductId, Wanted};
use dinghuo_store::event_store::EventLoader;
use dinghuo_store::streams::{LoadError, StreamId, Streams, MAX_STREAMS};
use dinghuo_store::Database;
use dinghuo_tests::submit_load::lines;
use dinghuo_tests::{on_both_backends, World};
use uuid::Uuid;

async fn submit(commands: &Commands, world: &World) -> OrderId {
    let input = SubmitOrderInput {
        lines: lines(world),
        note: None,
    };
    commands
        .submit_order(&world.contact_ctx(), input)
        .await
        .expect("an order")
}

/// Aggregate `id` folded from `streams` equals the same aggregate loaded alone, with the same
/// sequence number.
async fn folds_as_alone<A>(streams: &Streams, loader: &EventLoader<A>, id: &str)
where
    A: Aggregate + PartialEq + std::fmt::Debug,
{
    let together = streams
        .aggregate::<A>(id)
        .await
        .expect("the stream was read")
        .expect("the stream folds");
    let alone = loader.load(id).await.expect("loaded alone");
    assert_eq!(together.aggregate, alone.aggregate, "{} {id}", A::TYPE);
    assert_eq!(
        together.current_sequence,
        alone.sequence,
        "{} {id}",
        A::TYPE
    );
}

/// Stores an event that no current code can read on the stream of product `id`: its SKU is a
/// number.
async fn store_unreadable_product_event(db: &Database, id: ProductId) {
    let columns = "INSERT INTO events \
                   (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)";
    let payload = r#"{"ProductListed":{"sku":42}}"#;
    let metadata = r#"{"tenant_id":"01900000-0000-7000-8000-0000000000a1"}"#;
    match db {
        Database::Postgres(pool) => {
            let sql = format!(
                "{columns} VALUES ('Product', $1, 1, 'ProductListed', '1.0', \
                 CAST($2 AS json), CAST($3 AS json))"
            );
            sqlx::query(&sql)
                .bind(id.to_string())
                .bind(payload)
                .bind(metadata)
                .execute(pool)
                .await
                .map(|_| ())
        }
        Database::Sqlite(pool) => {
            let sql = format!("{columns} VALUES ('Product', ?, 1, 'ProductListed', '1.0', ?, ?)");
            sqlx::query(&sql)
                .bind(id.to_string())
                .bind(payload)
                .bind(metadata)
                .execute(pool)
                .await
                .map(|_| ())
        }
    }
    .expect("store the unreadable event");
}

on_both_backends! {
    async fn streams_read_together_fold_as_each_read_alone(test) {
        let commands = test.commands();
        let world = World::build(&commands, 3).await;
        let order = submit(&commands, &world).await;
        let never_written = Uuid::now_v7().to_string();
        let mut wanted = vec![
            StreamId::of::<Tenant>(world.tenant),
            StreamId::of::<Partner>(world.partner),
            StreamId::of::<Contact>(world.contact),
            StreamId::of::<Order>(order),
            StreamId::of::<Order>(&never_written),
        ];
        wanted.extend(world.products.iter().map(StreamId::of::<Product>));
        let mut streams = Streams::default();
        streams.load(&test.db, wanted).await.expect("one read");

        folds_as_alone(&streams, commands.tenants().loader(), &world.tenant.to_string()).await;
        folds_as_alone(&streams, commands.partners().loader(), &world.partner.to_string()).await;
        folds_as_alone(&streams, commands.contacts().loader(), &world.contact.to_string()).await;
        folds_as_alone(&streams, commands.orders().loader(), &order.to_string()).await;
        folds_as_alone(&streams, commands.orders().loader(), &never_written).await;
        for product in &world.products {
            folds_as_alone(&streams, commands.products().loader(), &product.to_string()).await;
        }
        // A stream not asked for is not answered from nothing.
        let other = Uuid::now_v7().to_string();
        assert!(streams.aggregate::<Order>(&other).await.is_none());
    }

    async fn a_stream_named_twice_is_read_once(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let contact = StreamId::of::<Contact>(world.contact);
        let mut twice = Streams::default();
        twice
            .load(&test.db, [contact.clone(), contact])
            .await
            .expect("one read");
        folds_as_alone(&twice, commands.contacts().loader(), &world.contact.to_string()).await;
    }

    async fn more_streams_than_the_bound_are_refused_before_reading(test) {
        let too_many = (0..=MAX_STREAMS).map(|_| StreamId::of::<Product>(Uuid::now_v7()));
        let mut streams = Streams::default();
        let refused = streams.load(&test.db, too_many).await;
        assert!(
            matches!(refused, Err(LoadError::TooMany { asked }) if asked == MAX_STREAMS + 1),
            "{refused:?}"
        );
        // At the bound, it reads.
        let at_bound = (0..MAX_STREAMS).map(|_| StreamId::of::<Product>(Uuid::now_v7()));
        streams.load(&test.db, at_bound).await.expect("the bound is allowed");
    }

    async fn an_unreadable_event_fails_the_lookup_that_reads_it_and_no_other(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let broken = ProductId::from_uuid(Uuid::now_v7());
        store_unreadable_product_event(&test.db, broken).await;
        let lookup = commands.lookup();

        let alone = lookup.product(broken).await;
        assert!(matches!(alone, Err(DomainError::Lookup(_))), "{alone:?}");
        let together = lookup
            .load(&Wanted::new().tenant(world.tenant).products([world.products[0], broken]))
            .await;
        assert!(matches!(together, Err(DomainError::Lookup(_))), "{together:?}");

        // Read together with the good streams, the broken one fails only its own fold.
        let mut streams = Streams::default();
        streams
            .load(
                &test.db,
                [StreamId::of::<Product>(broken), StreamId::of::<Tenant>(world.tenant)],
            )
            .await
            .expect("rows are read undecoded");
        assert!(streams.aggregate::<Product>(&broken.to_string()).await.expect("read").is_err());
        folds_as_alone(&streams, commands.tenants().loader(), &world.tenant.to_string()).await;
    }
}
