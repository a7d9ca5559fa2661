"""DeFi maths and chain helpers: Keccak-256, EIP-55 addresses, rewards and impermanent loss."""
