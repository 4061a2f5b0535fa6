"""A user app shipped as a package installed into the node image (not a code folder)."""
