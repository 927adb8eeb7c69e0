"""One module per subcommand; see slogate/cli.py for the contract."""
