"""The screening stage: automated eligibility, human decisions, ranking and interchange."""
