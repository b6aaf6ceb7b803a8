char plexus_abi_anchor = 0;
