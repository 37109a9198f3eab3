"""Ethereum primitives: keccak, secp256k1 keys, addresses, enodes, RLP, keystores, genesis."""
