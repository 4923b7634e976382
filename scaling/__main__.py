from scaling.cli import main

if __name__ == "__main__":  # guarded: grading's process pool re-imports the main module
    main()
