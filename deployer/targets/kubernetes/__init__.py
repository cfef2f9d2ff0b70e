"""The kubernetes target (docs/product.md §6): the only package that imports the `kubernetes` client."""
