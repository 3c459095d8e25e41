"""Suite-wide settings. Service fixtures live next to the tests that use them."""

import os

# Set before anything imports jsii (through cdktn): Node 20 is end of life but works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
