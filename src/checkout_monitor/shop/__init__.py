"""The storefront as a journey sees it: the page object, the order API, discount rules and money."""
