// The client's API speaks the model's types (Value, TaskEvent, DataflowSpec, TaskStatus...):
// importing DNNProvClient is enough to use it.
@_exported import DNNProvModel
