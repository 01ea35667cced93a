"""Pure input code: file names, CSV and XML parsing, validation.

Never imports dagster or opens the warehouse, so every rule here is testable on plain files.
"""
