"""Every product photo a shopper sees is there, complete, big enough and the right one.

Checks each configured product page (or those a listing page links to): the images the
browser chose from srcset / <picture>, and lazy ones after scrolling. Every page is
checked even after a broken one. Settings live under `images:` in the storefront profile.
"""

from checkout_monitor import JourneyRun, journey


@journey("product-images", tags=("images",))
async def product_images(run: JourneyRun) -> None:
    """Check the images on the product pages."""
    shop = run.shop
    pages = shop.image_pages
    if shop.profile.images.listing:
        async with run.step("open product listing") as step:
            pages = await shop.product_pages_from_listing()
            step.note(f"{len(pages)} product pages linked")
    # Steps are numbered, not named by path: a step name is a metric label, and a
    # shop's product paths change over months. Soft: a broken page does not stop the
    # others, so a CDN incident shows every broken page in one run, not the first only.
    for number, path in enumerate(pages, start=1):
        async with run.step(f"images on product page {number}", soft=True) as step:
            step.note(await shop.check_images(path))
