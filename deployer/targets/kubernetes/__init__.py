"""The kubernetes target (PRODUCT.md §6): the only package that imports the `kubernetes` client."""
