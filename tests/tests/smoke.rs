//! The smallest end-to-end check: the world builds and an order goes through, on both backends.

use dinghuo_commands::{OrderLineInput, SubmitOrderInput};
use dinghuo_tests::{on_both_backends, World};

on_both_backends! {
    async fn a_bound_contact_can_order_from_the_catalog(test) {
        let commands = test.commands();
        let world = World::build(&commands, 2).await;
        let order = commands
            .submit_order(
                &world.contact_ctx(),
                SubmitOrderInput {
                    lines: vec![OrderLineInput { product_id: world.products[1].to_string(), quantity: 3, sku: None }],
                    note: None,
                },
            )
            .await
            .expect("submit order");
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            vec![("OrderSubmitted".to_owned(), 1)]
        );
    }
}
