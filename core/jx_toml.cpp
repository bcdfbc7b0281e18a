extern int jx__toml_placeholder; int jx__toml_placeholder;
