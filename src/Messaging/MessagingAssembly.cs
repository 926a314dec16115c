namespace Sagas.Messaging; public static class MessagingAssembly { }
