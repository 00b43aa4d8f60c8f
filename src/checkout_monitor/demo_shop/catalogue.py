"""The products the demo shop sells; the first one is the product the demo journey buys."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """One product: its price in cents, stock count and what its images look like."""

    slug: str
    name: str
    price_cents: int
    stock: int
    summary: str
    description: str
    material: str
    # Drives the rendered images: which shape to draw and in which colours.
    shape: str
    colour: tuple[int, int, int]
    backdrop: tuple[tuple[int, int, int], tuple[int, int, int]]


SOLD_OUT_MESSAGE = "Sorry, this item is sold out"

PRODUCTS: tuple[Product, ...] = (
    Product(
        slug="speckled-mug",
        name="Speckled Stoneware Mug",
        price_cents=2400,
        stock=12,
        summary="A hand-thrown 350 ml mug with an oatmeal speckle glaze.",
        description=(
            "Thrown on the wheel in our studio and glazed in a warm oatmeal speckle, this mug "
            "holds a generous 350 ml of coffee or tea. The handle is pulled by hand, so each "
            "one sits a little differently in the palm."
        ),
        material="Stoneware, food-safe glaze. Dishwasher and microwave safe.",
        shape="mug",
        colour=(214, 196, 168),
        backdrop=((92, 110, 120), (188, 200, 204)),
    ),
    Product(
        slug="stoneware-bowl",
        name="Stoneware Serving Bowl",
        price_cents=3850,
        stock=7,
        summary="A wide 24 cm bowl in a deep ocean-blue glaze.",
        description=(
            "A wide, shallow serving bowl for salads, pasta or fruit. The ocean-blue glaze pools "
            "darker in the centre, and the unglazed foot shows the raw clay underneath."
        ),
        material="Stoneware, reactive glaze. Hand wash recommended.",
        shape="bowl",
        colour=(38, 84, 140),
        backdrop=((226, 214, 196), (160, 140, 118)),
    ),
    Product(
        slug="silver-leaf-earrings",
        name="Silver Leaf Earrings",
        price_cents=6500,
        stock=2,
        summary="Delicate sterling silver drops shaped like willow leaves.",
        description=(
            "Each leaf is cut by hand from sterling silver sheet, textured with a fine hammer "
            "and hung on sterling hooks. Light enough to wear all day."
        ),
        material="925 sterling silver. Comes in a recycled card box.",
        shape="leaf",
        colour=(200, 204, 210),
        backdrop=((58, 48, 70), (128, 104, 140)),
    ),
    Product(
        slug="leather-card-wallet",
        name="Leather Card Wallet",
        price_cents=4500,
        stock=15,
        summary="A slim vegetable-tanned wallet for six cards.",
        description=(
            "Cut from vegetable-tanned leather and saddle-stitched with waxed linen thread. "
            "It starts a light tan and darkens to a rich honey colour with use."
        ),
        material="Vegetable-tanned cowhide, waxed linen thread.",
        shape="wallet",
        colour=(150, 92, 50),
        backdrop=((236, 228, 214), (196, 184, 160)),
    ),
    Product(
        slug="linen-apron",
        name="Linen Work Apron",
        price_cents=5200,
        stock=9,
        summary="A stone-washed linen apron with cross-back straps.",
        description=(
            "Made from heavy stone-washed linen with two deep front pockets and cross-back "
            "straps that take the weight off your neck. For the kitchen, studio or garden."
        ),
        material="100% European linen. Machine wash at 40 degrees.",
        shape="apron",
        colour=(112, 128, 98),
        backdrop=((240, 236, 226), (204, 196, 180)),
    ),
    Product(
        slug="oak-serving-board",
        name="Oak Serving Board",
        price_cents=7900,
        stock=5,
        summary="A 45 cm board carved from a single piece of oak.",
        description=(
            "Carved from a single piece of sustainably grown oak and finished with food-safe "
            "oil. Large enough for a loaf of bread and a whole wheel of cheese."
        ),
        material="Solid European oak, linseed oil finish.",
        shape="board",
        colour=(176, 132, 84),
        backdrop=((70, 74, 66), (140, 146, 132)),
    ),
)

_BY_SLUG: dict[str, Product] = {product.slug: product for product in PRODUCTS}


def find_product(slug: str) -> Product | None:
    """The product with this slug, or None."""
    return _BY_SLUG.get(slug)
