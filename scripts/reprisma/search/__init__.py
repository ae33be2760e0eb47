"""The search stage: clients for E-utilities and ClinicalTrials.gov v2 and the live capture."""
