from osintel.cli import main

if __name__ == "__main__":  # not when `spawn` re-imports it in an enrichment process
    main()
