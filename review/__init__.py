"""The review inbox: citizen messages the assistant may have misunderstood, their correction
by a reviewer, and the export of the corrected examples as Rasa training data."""
